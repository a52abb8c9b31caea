"""Runs the services of docker-compose.yml as local processes against the machine's PostgreSQL and Redis.

The commands come from docker-compose.yml itself, so the test exercises what the containers would run; only
the bind address, the beat schedule path and the executables' location are adapted to this machine.
"""

import os
import re
import shutil
import signal
import string
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import redis
import requests
import yaml

from tests.conftest import REDIS_HOST, REDIS_PORT, service_missing
from tests.support.net import free_port, wait_until
from tests.support.questionnaire import NO_RED_FLAGS, PREPARE_STEPS, SCREENING_STEPS, step_data
from tests.support.smtp import SmtpServer

ROOT = Path(__file__).resolve().parents[2]
# Debian's nginx (the package `nginx`), in front of gunicorn as the compose file's proxy service is.
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def compose_services() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def proxy_pages_write(folder: Path, env: dict[str, str]) -> None:
    """Write the proxy's own pages into ``folder`` as the nginx image's entrypoint does at start: each
    deploy/nginx/pages/*.template with the proxy service's environment filled in (a ``${NAME:-default}`` of the
    compose file takes NAME from ``env``, else the default)."""
    values = {}
    for name, value in compose_services()["proxy"]["environment"].items():
        default = re.fullmatch(r"\$\{(\w+):-(.*)\}", str(value))
        values[name] = env.get(default.group(1)) or default.group(2) if default else str(value)
    folder.mkdir(parents=True, exist_ok=True)
    for template in (ROOT / "deploy" / "nginx" / "pages").glob("*.template"):
        page = string.Template(template.read_text()).safe_substitute(values)
        (folder / template.name.removesuffix(".template")).write_text(page)


class Stack:
    """A fresh PostgreSQL database, a Redis database number, and the compose services as processes."""

    def __init__(
        self,
        tmp_path: Path,
        *,
        redis_url: str,
        smtp_url: str,
        extra_env: dict | None = None,
        postgres_port: int = 5432,
        database_prefix: str = "clinic_e2e",
    ):
        self.tmp_path = tmp_path
        self.postgres_port = postgres_port
        self.database = f"{database_prefix}_{uuid.uuid4().hex[:10]}"
        self.web_port = free_port()
        # Every gunicorn the proxy balances over: the "web" service's port, and those of add_web().
        self.web_ports = [self.web_port]
        self.proxy_port = free_port()
        self.processes: dict[str, subprocess.Popen] = {}
        self.var_dir = tmp_path / "var"
        self.var_dir.mkdir()
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_"))}
        self.env = {
            **inherited,
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "e2e-" + uuid.uuid4().hex * 2,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{postgres_port}/{self.database}",
            "CELERY_BROKER_URL": redis_url,
            "CACHE_URL": redis_url,
            "EMAIL_URL": smtp_url,
            "EMAIL_TIMEOUT": "5",
            "SITE_URL": "https://clinic.test",
            "CLINIC_VAR_DIR": str(self.var_dir),
            "CLINIC_FRONT_DESK_EMAIL": "frontdesk@clinic.test",
            "CLINIC_URGENT_EMAIL": "urgent@clinic.test",
            "PYTHONUNBUFFERED": "1",
            # Every simulated patient comes from 127.0.0.1 with the same phone number.
            "CLINIC_RATE_LIMIT_FORM_POSTS": "100000/h",
            "CLINIC_RATE_LIMIT_REQUESTS_PER_ADDRESS": "10000/h",
            "CLINIC_RATE_LIMIT_REQUESTS_PER_PHONE": "10000/d",
            # Many patients at once on a busy test machine must not meet the busy page in tests about something
            # else: tests/test_busy_site.py and bench/surge.py turn it on.
            "CLINIC_BUSY_WAIT_MS": "0",
            **(extra_env or {}),
        }

    @property
    def admin_url(self) -> str:
        return POSTGRES_ADMIN_URL.replace(":5432/", f":{self.postgres_port}/")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.proxy_port}"

    def proxy_config(self) -> Path:
        """The proxy's own rules from deploy/nginx/clinic/, in a server block on a free port of this machine.

        Only the frame differs from deploy/nginx/nginx.conf: paths, the upstream's address, and plain HTTP
        with TLS simulated (the proxy tells gunicorn the request came over HTTPS, as its TLS server block does).
        """
        folder = self.tmp_path / "nginx"
        folder.mkdir(exist_ok=True)
        rules = ROOT / "deploy" / "nginx" / "clinic"
        config = folder / "nginx.conf"
        # Run as root (CI containers), nginx would hand its workers to "nobody", who cannot enter tmp_path.
        user = "user root;" if os.geteuid() == 0 else ""
        servers = "\n".join(f"        server 127.0.0.1:{port};" for port in self.web_ports)
        proxy_pages_write(folder / "pages", self.env)
        config.write_text(
            f"""
daemon off;
worker_processes 1;
{user}
pid {folder}/nginx.pid;
error_log stderr crit;
events {{ worker_connections 1024; }}
http {{
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {rules}/http.conf;
    proxy_cache_path {folder}/cache levels=1:2 keys_zone=clinic:10m max_size=256m inactive=10m use_temp_path=off;
    upstream clinic_web {{
{servers}
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{self.proxy_port};
        set $clinic_forwarded_proto https;
        set $clinic_pages {folder}/pages;
        include {rules}/proxy.conf;
    }}
}}
"""
        )
        return config

    def start_proxy(self) -> subprocess.Popen:
        if not Path(NGINX).exists():
            raise FileNotFoundError(NGINX)
        config = self.proxy_config()
        log = open(self.tmp_path / "proxy.log", "ab")  # noqa: SIM115 - closed with the process in stop()
        process = subprocess.Popen(
            [NGINX, "-e", "stderr", "-p", str(config.parent), "-c", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes["proxy"] = process

        def answering():
            try:
                return requests.get(f"{self.proxy_url}/healthz", timeout=5).status_code == 200
            except (requests.ConnectionError, requests.Timeout):
                return False

        wait_until(answering, timeout=30, what=f"nginx in front of gunicorn\n{self.log('proxy')}")
        return process

    def _executable(self, command: list[str]) -> list[str]:
        program, *args = command
        if program == "python":
            return [sys.executable, *args]
        return [str(Path(sys.executable).parent / program), *args]

    def service_command(self, name: str, *, port: int | None = None) -> list[str]:
        command = list(compose_services()[name]["command"])
        if "--bind" in command:
            command[command.index("--bind") + 1] = f"127.0.0.1:{port or self.web_port}"
        command = [arg.replace("/app/var", str(self.var_dir)) for arg in command]
        return self._executable(command)

    def run_once(self, command: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run(command, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300, check=False)

    def start(
        self, name: str, *, service: str | None = None, port: int | None = None, extra_args: tuple[str, ...] = ()
    ) -> subprocess.Popen:
        """Start compose service ``service`` (default: ``name``) as the process ``name``: a second instance of a
        service (what `docker compose up --scale` gives) is the same service under another name."""
        log = open(self.tmp_path / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process in stop()
        process = subprocess.Popen(
            [*self.service_command(service or name, port=port), *extra_args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes[name] = process
        return process

    def add_web(self, name: str) -> int:
        """Another gunicorn of the web service on a port of its own, behind the proxy (start it before the
        proxy). Returns its port."""
        port = free_port()
        self.web_ports.append(port)
        self.start(name, service="web", port=port)
        return port

    def log(self, name: str) -> str:
        path = self.tmp_path / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def kill(self, name: str, sig: int = signal.SIGTERM) -> None:
        process = self.processes.pop(name)
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def create_database(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')

    def drop_database(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.postgres_port}/{self.database}") as conn:
            return conn.execute(sql, params).fetchall()

    def wait_healthy(self, timeout: float = 60) -> None:
        def healthy():
            try:
                return requests.get(f"{self.base_url}/healthz", timeout=5).status_code == 200
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or still starting up
                return False

        wait_until(healthy, timeout=timeout, what=f"gunicorn /healthz\n{self.log('web')}")

    def prepare(self) -> None:
        """What a deploy does before the long-running services: database, static files, release."""
        self.create_database()
        collected = self.run_once([sys.executable, "manage.py", "collectstatic", "--noinput"])
        assert collected.returncode == 0, collected.stderr
        released = self.run_once(self.service_command("release"))
        assert released.returncode == 0, released.stdout + released.stderr

    def stop(self) -> None:
        for name in list(self.processes):
            self.kill(name)
        self.drop_database()
        shutil.rmtree(self.tmp_path / "static", ignore_errors=True)


@contextmanager
def stack_behind_proxy(
    path: Path, *, redis_db: int, smtp_url: str, extra_env: dict[str, str] | None = None
) -> Iterator[Stack]:
    """gunicorn behind Debian's nginx (CLINIC_PROXY_COUNT=1) on a Redis database of the test's own, emptied
    before and after; ``extra_env`` for the site's processes."""
    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=redis_db)
    client.flushdb()
    running = Stack(
        path,
        redis_url=f"redis://{REDIS_HOST}:{REDIS_PORT}/{redis_db}",
        smtp_url=smtp_url,
        extra_env={"CLINIC_PROXY_COUNT": "1", **(extra_env or {})},
    )
    running.prepare()
    try:
        running.start("web")
        running.wait_healthy()
        running.start_proxy()
        yield running
    finally:
        running.stop()
        client.flushdb()


@contextmanager
def stack_behind_proxy_with_mail(
    path: Path, *, redis_db: int, extra_env: dict[str, str] | None = None
) -> Iterator[Stack]:
    """`stack_behind_proxy` with an SMTP server of its own, for a module's tests to share (Debian's nginx must be
    installed: missing, the tests skip, or fail in CI)."""
    if not Path(NGINX).exists():
        service_missing(f"{NGINX} is missing (Debian package nginx)")
    with (
        SmtpServer() as smtp,
        stack_behind_proxy(path, redis_db=redis_db, smtp_url=smtp.url, extra_env=extra_env) as running,
    ):
        yield running


class PatientBrowser:
    """A requests session that talks to the production settings the way a browser on HTTPS would.

    Production cookies are Secure and the site sits behind a TLS proxy: the session sends the proxy's
    X-Forwarded-Proto header and carries the cookies itself, since requests keeps Secure cookies off http://.
    """

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.http = requests.Session()
        self.cookies: dict[str, str] = {}

    def _headers(self, path: str) -> dict:
        return {
            "X-Forwarded-Proto": "https",
            "Referer": f"https://{self.base_url.removeprefix('http://')}{path}",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }

    def _keep_cookies(self, response: requests.Response) -> None:
        for cookie in response.cookies:
            self.cookies[cookie.name] = cookie.value

    def get(self, path: str) -> requests.Response:
        response = self.http.get(self.base_url + path, headers=self._headers(path), allow_redirects=False, timeout=30)
        self._keep_cookies(response)
        return response

    def post_form(self, path: str, data: dict) -> requests.Response:
        page = self.get(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = self.http.post(
            self.base_url + path,
            data={**data, "csrfmiddlewaretoken": token},
            headers=self._headers(path),
            allow_redirects=False,
            timeout=30,
        )
        self._keep_cookies(response)
        return response

    def request_callback(self, contact: dict, answers: dict | None = None) -> requests.Response:
        """Walk the short path as a patient: the safety questions, then the contact details.

        Returns the response to the final POST (a redirect to the confirmation page when it worked).
        """
        answers = answers or NO_RED_FLAGS
        path = "/request-a-callback/"
        for step in SCREENING_STEPS:
            response = self.post_form(path, step_data(answers[step]))
            if response.status_code != 302:
                raise AssertionError(f"step {step} answered {response.status_code}: {response.text[:2000]}")
            path = response.headers["Location"]
        if "/your-details/" not in path:
            raise AssertionError(f"the questionnaire ended at {path}, not at the contact details")
        return self.post_form(path, contact)

    def answer_later_questions(self, confirmation_path: str, answers: dict | None = None) -> list[requests.Response]:
        """Answer the rest of the questionnaire from the confirmation page's link, one saved page at a time."""
        answers = answers or NO_RED_FLAGS
        page = self.get(confirmation_path)
        path = re.search(r'id="prepare-start" href="([^"]+)"', page.text).group(1)
        responses = []
        for step in PREPARE_STEPS:
            response = self.post_form(f"{path}{step}/", step_data(answers[step]))
            if response.status_code != 302:
                raise AssertionError(f"step {step} answered {response.status_code}: {response.text[:2000]}")
            responses.append(response)
        return responses
