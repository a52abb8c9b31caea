"""End to end: the docker-compose services' own commands, on the local PostgreSQL and Redis, with real SMTP.

A patient submits the callback form over HTTP to gunicorn; a Celery worker sends the staff e-mail to an SMTP
server on loopback; beat runs its schedule. No Docker engine is needed.
"""

import re
import shutil
import socket
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import redis
import requests

from tests.callbacks.web.test_forms import form_data
from tests.conftest import REDIS_HOST, REDIS_PORT, service_missing
from tests.support.net import wait_until
from tests.support.questionnaire import NO_RED_FLAGS, step_data
from tests.support.smtp import SmtpServer
from tests.support.stack import NGINX, ROOT, PatientBrowser, Stack, compose_services, stack_behind_proxy

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

E2E_REDIS_DB = 11


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def stack(tmp_path, smtp):
    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=E2E_REDIS_DB)
    client.flushdb()
    running = Stack(
        tmp_path,
        redis_url=f"redis://{REDIS_HOST}:{REDIS_PORT}/{E2E_REDIS_DB}",
        smtp_url=smtp.url,
        extra_env={"OUTBOX_REQUEUE_EVERY_SECONDS": "2"},
    )
    running.prepare()
    try:
        yield running
    finally:
        running.stop()
        client.flushdb()


def test_compose_file_is_valid_compose():
    if shutil.which("docker-compose") is None:
        service_missing("docker-compose (Debian package) is needed to validate docker-compose.yml")
    env_file = ROOT / ".env"
    created = not env_file.exists()
    if created:
        env_file.write_text("POSTGRES_PASSWORD=validation-only\n")
    try:
        result = subprocess.run(
            ["docker-compose", "-f", "docker-compose.yml", "config", "-q"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        if created:
            env_file.unlink()
    assert result.returncode == 0, result.stderr


def test_compose_services_are_the_production_stack():
    services = compose_services()
    assert set(services) == {"db", "redis", "release", "proxy", "web", "worker", "worker-urgent", "beat"}
    assert services["web"]["command"][0] == "gunicorn"
    assert services["worker"]["command"][:4] == ["celery", "-A", "clinic", "worker"]
    # Each lane has worker processes of its own (each lane's heartbeat then says whether it is served).
    assert "--queues=urgent" in services["worker-urgent"]["command"]
    assert "--queues=routine" in services["worker"]["command"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "clinic", "beat"]
    for name in ("db", "redis", "proxy", "web", "worker", "worker-urgent"):
        assert "healthcheck" in services[name], name


def test_only_the_proxy_is_published_and_gunicorn_stays_on_the_compose_network():
    services = compose_services()
    assert {name for name, service in services.items() if service.get("ports")} == {"proxy"}
    assert re.fullmatch(r"nginx:\d+\.\d+\.\d+-alpine", services["proxy"]["image"]), "a pinned nginx release"
    assert services["web"]["expose"] == ["8000"]
    assert services["web"]["command"][:4] == [
        "gunicorn",
        "clinic.wsgi:application",
        "--config",
        "python:clinic.gunicorn_conf",
    ]
    # The proxy's files are in the repository, and its TLS server block is ready for a certificate.
    for mount in services["proxy"]["volumes"]:
        local = mount.split(":")[0]
        if local != "./certs":
            assert (ROOT / local).exists(), local
    nginx_conf = (ROOT / "deploy" / "nginx" / "nginx.conf").read_text()
    for directive in (
        "listen 443 ssl",
        "ssl_certificate /etc/nginx/certs/fullchain.pem;",
        "include /etc/nginx/clinic/proxy.conf;",
    ):
        assert directive in nginx_conf
    assert "CLINIC_PROXY_COUNT" in str(services["web"]["environment"])


def test_callback_request_end_to_end(stack, smtp):
    stack.start("web")
    stack.start("worker")
    stack.start("beat")
    stack.wait_healthy()

    patient = PatientBrowser(stack.base_url)
    home = patient.get("/")
    assert home.status_code == 200
    # Static files come from WhiteNoise, with their hashed names and long caching.
    stylesheet = re.search(r'href="(/static/vendor/bootstrap/bootstrap\.min\.[0-9a-f]+\.css)"', home.text).group(1)
    css = patient.get(stylesheet)
    assert css.status_code == 200
    assert "max-age=315360000" in css.headers["Cache-Control"]
    assert "default-src 'self'" in home.headers["Content-Security-Policy"]
    assert home.headers["Strict-Transport-Security"].startswith("max-age=31536000")

    submitted = patient.request_callback(
        form_data(name="Robin Testpatient", phone="07400 123456", reason="Spasm after lifting boxes"),
    )
    assert submitted.status_code == 302, submitted.text[:2000]
    done = patient.get(submitted.headers["Location"])
    reference = re.search(r'id="reference">(CB-[0-9A-Z]{5})<', done.text).group(1)

    (row,) = stack.query("SELECT id, phone, status FROM callbacks_callbackrequest WHERE reference = %s", (reference,))
    request_id, phone, status = row
    assert (phone, status) == ("+447400123456", "new")

    messages = wait_until(lambda: smtp.messages, timeout=30, what=f"the staff e-mail\n{stack.log('worker')}")
    (message,) = messages
    body = message.get_content()
    assert message["To"] == "frontdesk@clinic.test"
    assert reference in message["Subject"]
    assert f"https://clinic.test/admin/callbacks/callbackrequest/{request_id}/change/" in body
    for private in ("Robin", "Testpatient", "Spasm", "lifting", "7400"):
        assert private not in body

    (sent,) = stack.query("SELECT status, attempts FROM callbacks_notification WHERE request_id = %s", (request_id,))
    assert sent == ("sent", 1)

    # Beat publishes its schedule to Redis and the worker runs it.
    wait_until(lambda: "outbox-requeue-stale" in stack.log("beat"), timeout=30, what="beat to send its task")
    wait_until(
        lambda: "callbacks.tasks.outbox_requeue_stale" in stack.log("worker") and "succeeded" in stack.log("worker"),
        timeout=30,
        what="the worker to run the beat task",
    )
    assert "Traceback" not in stack.log("web") + stack.log("worker") + stack.log("beat")


def test_health_check_reports_a_missing_database(stack):
    stack.start("web")
    stack.wait_healthy()
    stack.drop_database()
    response = PatientBrowser(stack.base_url).get("/healthz")
    assert response.status_code == 503
    stack.create_database()  # so that teardown's drop has something to drop


def test_no_personal_data_in_logs_task_messages_urls_or_staff_emails(stack, smtp):
    """A patient with unmistakable details goes through the whole flow; none of it may leave the database,
    except the patient's own confirmation (their address, their reference, no answers)."""
    import base64
    import copy
    import json

    answers = copy.deepcopy(NO_RED_FLAGS)
    answers["treatment"]["goals"] = "Dance the Zanzibar tango again"
    private = {
        "name": "Quillon Xavierson",
        "phone digits": "987654",
        "e-mail": "quillon.xavierson@example.com",
        "reason": "Cramp after Zumbathon",
        "answer": "Zanzibar",
    }
    stack.start("web")
    stack.wait_healthy()
    patient = PatientBrowser(stack.base_url)
    submitted = patient.request_callback(
        form_data(name=private["name"], phone="07400 987654", email=private["e-mail"], reason=private["reason"]),
        answers,
    )
    assert submitted.status_code == 302, submitted.text[:2000]

    # No worker yet: the task messages wait in Redis, whole, as the worker would receive them.
    broker = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=E2E_REDIS_DB)
    queued = broker.lrange("routine", 0, -1)
    assert len(queued) == 2, "staff notification and patient confirmation, in the routine lane"
    assert broker.llen("urgent") == 0
    task_messages = [json.loads(raw) for raw in queued]
    for message in task_messages:
        args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
        assert len(args) == 1 and isinstance(args[0], int) and kwargs == {}, "an outbox id and nothing else"

    stack.start("worker")
    wait_until(lambda: len(smtp.messages) >= 2, timeout=30, what=f"two e-mails\n{stack.log('worker')}")
    staff = [m for m in smtp.messages if m["To"] != private["e-mail"]]
    (own,) = [m for m in smtp.messages if m["To"] == private["e-mail"]]

    outside = {
        "web log (with every URL requested)": stack.log("web"),
        "worker log": stack.log("worker"),
        "task messages": json.dumps(task_messages),
        **{f"staff e-mail to {m['To']}": m.as_string() for m in staff},
    }
    for where, text in outside.items():
        for what, value in private.items():
            assert value.lower() not in text.lower(), f"the patient's {what} is in the {where}"
    own_text = own.get_content()
    for what in ("reason", "answer", "phone digits"):
        assert private[what].lower() not in own_text.lower(), f"the patient's {what} is in their confirmation"


# The edge: Debian's nginx with the proxy rules of deploy/nginx/clinic/ in front of gunicorn -------------------


@pytest.fixture
def proxied_stack(tmp_path, smtp):
    if not Path(NGINX).exists():
        service_missing(f"{NGINX} is missing (Debian package nginx)")
    with stack_behind_proxy(tmp_path, redis_db=E2E_REDIS_DB, smtp_url=smtp.url) as running:
        yield running


def _stall(port: int, connections: int, cookie: str) -> list[socket.socket]:
    """Connections that announce a 100 kB form with a valid CSRF cookie and send 3 bytes of it, then wait.

    With the cookie and a matching Origin, Django's CSRF check reads the body: a sync worker waits for it.
    """
    stalled = []
    for _ in range(connections):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(
            f"POST /request-a-callback/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Origin: https://127.0.0.1:{port}\r\nX-Forwarded-Proto: https\r\nCookie: csrftoken={cookie}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\nabc".encode()
        )
        stalled.append(sock)
    return stalled


def test_the_proxy_reads_slow_bodies_itself_so_gunicorns_workers_stay_free(proxied_stack):
    workers = int(compose_services()["web"]["command"][-1])
    cookie = PatientBrowser(proxied_stack.proxy_url).get("/request-a-callback/").cookies["csrftoken"]
    stalled = _stall(proxied_stack.proxy_port, workers * 2, cookie)
    try:
        time.sleep(1)
        started = time.monotonic()
        response = requests.get(proxied_stack.proxy_url + "/", timeout=10)
        assert response.status_code == 200
        assert time.monotonic() - started < 5
        # Without the proxy the same few connections hold every sync worker: this is what the proxy prevents.
        direct = _stall(proxied_stack.web_port, workers, cookie)
        stalled += direct
        time.sleep(1)
        with pytest.raises(requests.Timeout):
            requests.get(proxied_stack.base_url + "/", headers={"X-Forwarded-Proto": "https"}, timeout=3)
    finally:
        for sock in stalled:
            sock.close()


def _get_from(address: str, port: int, path: str = "/healthz", timeout: float = 5) -> int:
    """The status of a GET sent from another loopback address (another client, as the proxy sees it)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(address, 0)) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
        answer = sock.recv(64).decode("latin-1")
    return int(answer.split()[1]) if answer.startswith("HTTP/") else 0


def _answered(sock: socket.socket) -> str:
    """What the proxy sent on a stalled connection so far: "" (nothing yet), "closed", or the status line."""
    sock.setblocking(False)
    try:
        data = sock.recv(64)
    except BlockingIOError:
        return ""
    except OSError:
        return "closed"
    return data.decode("latin-1").split("\r\n")[0] if data else "closed"


def _feed(sockets: list[socket.socket], stop: threading.Event, every: float) -> threading.Thread:
    """A byte to each connection every `every` seconds: never idle long enough for the proxy's read timeout."""

    def feed():
        while not stop.wait(every):
            for sock in sockets:
                try:
                    sock.send(b"a")
                except OSError:
                    continue

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    return feeder


def test_one_client_cannot_hold_every_connection_of_the_proxy(proxied_stack):
    """Issue 27: one address held 253 slowly fed bodies and locked every other client out of a 256-connection
    proxy (this test's nginx has 256 too). Now one address (an IPv6 client: its /64) has 20 requests at a time;
    the proxy closes its others as soon as their headers arrive, or refuses them for the request rate."""
    cookie = PatientBrowser(proxied_stack.proxy_url).get("/request-a-callback/").cookies["csrftoken"]
    stalled = _stall(proxied_stack.proxy_port, 254, cookie)
    stop = threading.Event()
    feeder = _feed(stalled, stop, every=2)
    try:
        time.sleep(2)
        # Another client is served at once, while the slow bodies are still being fed.
        started = time.monotonic()
        assert _get_from("127.0.0.2", proxied_stack.proxy_port) == 200
        assert time.monotonic() - started < 3
        answers = Counter(_answered(sock) for sock in stalled)
        # Closed (beyond 20 at a time), or refused by the request rate (429; the rest of its body is dropped).
        assert answers[""] == 20, answers
        assert answers["closed"] + answers["HTTP/1.1 429 Too Many Requests"] == 234, answers
    finally:
        stop.set()
        feeder.join(timeout=5)
        for sock in stalled:
            sock.close()


def test_a_refused_body_is_dropped_within_ten_seconds_however_slowly_it_comes(proxied_stack):
    """After a 413 the proxy reads and drops the rest of the body, for 10 s in all (lingering_time), not 30."""
    sock = socket.create_connection(("127.0.0.1", proxied_stack.proxy_port), timeout=5)
    sock.sendall(
        f"POST /request-a-callback/ HTTP/1.1\r\nHost: 127.0.0.1:{proxied_stack.proxy_port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 300000\r\n\r\nabc".encode()
    )
    stop = threading.Event()
    feeder = _feed([sock], stop, every=1)
    try:
        assert b" 413 " in sock.recv(4096)
        started = time.monotonic()
        sock.settimeout(20)
        try:
            while sock.recv(4096):
                pass
        except OSError:  # reset by the proxy: closed as well
            pass
        assert time.monotonic() - started < 13
    finally:
        stop.set()
        feeder.join(timeout=5)
        sock.close()


def test_one_client_is_held_to_the_proxys_request_rate(proxied_stack):
    """A burst for a page is answered; a flood from one address gets 429 from the proxy, and other clients
    are still served."""
    client = requests.Session()
    statuses = [client.get(proxied_stack.proxy_url + "/", timeout=10).status_code for _ in range(150)]
    assert statuses[:40] == [200] * 40, statuses
    assert statuses.count(429) >= 50, statuses
    assert _get_from("127.0.0.3", proxied_stack.proxy_port, "/") == 200


def test_the_proxy_chooses_the_client_address_not_the_client(proxied_stack):
    """Behind the proxy (CLINIC_PROXY_COUNT=1) a client's own X-Forwarded-For does not choose the address that
    sign-in lockouts and rate limits count: the proxy replaces it with the address it saw."""
    patient = PatientBrowser(proxied_stack.proxy_url)
    page = patient.get("/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    refused = patient.http.post(
        proxied_stack.proxy_url + "/admin/login/",
        data={"username": "someone", "password": "not the password", "csrfmiddlewaretoken": token},
        headers={**patient._headers("/admin/login/"), "X-Forwarded-For": "198.51.100.66"},
        allow_redirects=False,
        timeout=30,
    )
    assert refused.status_code == 200
    assert proxied_stack.query("SELECT host(ip_address) FROM axes_accessattempt") == [("127.0.0.1",)]


def test_no_query_strings_tokens_or_red_flag_paths_in_any_log(proxied_stack, smtp):
    """Searches, tokens and the red-flag page pass through nginx, gunicorn, Django and the worker; no log the
    stack writes holds them, while every request is still logged by its route."""
    proxied_stack.start("worker")
    token = "Tk9zLmFiY2RlZmdoaWprbG1ub3Bx"
    secrets = {
        "article search": "Zumbathonxq",
        "staff search": "07400987654",
        "cancel token": token,
        "red-flag page": "get-help-now",
        "utm query": "utm_source",
    }
    patient = PatientBrowser(proxied_stack.proxy_url)
    assert patient.get("/articles/search/?q=Zumbathonxq+cramps&utm_source=mail").status_code == 200
    assert patient.get(f"/book/cancel/{token}/?utm_source=mail").status_code == 404
    assert patient.get("/admin/callbacks/callbackrequest/?q=07400987654").status_code == 302
    submitted = patient.request_callback(form_data(name="Lia Ortwin", phone="07400 987654"))
    assert submitted.status_code == 302, submitted.text[:2000]
    emergency = PatientBrowser(proxied_stack.proxy_url)
    answers = {**NO_RED_FLAGS["safety"], "saddle_numbness": "yes"}
    advice = emergency.post_form("/request-a-callback/", step_data(answers))
    assert "get-help-now" in advice.headers["Location"]
    assert emergency.get(advice.headers["Location"]).status_code == 200
    wait_until(lambda: smtp.messages, timeout=30, what=f"the staff e-mail\n{proxied_stack.log('worker')}")

    logs = {name: proxied_stack.log(name) for name in ("proxy", "web", "worker")}
    for where, text in logs.items():
        for what, value in secrets.items():
            assert value.lower() not in text.lower(), f"the {what} is in the {where} log"
    # Still useful: each request is in the access logs, gunicorn's by its route.
    assert '"GET /articles/search/" 200' in logs["web"]
    assert '"GET /book/cancel/<str:token>/" 404' in logs["web"]
    assert '"GET [patient advice page]" 200' in logs["web"]
    assert "Not Found: /book/cancel/<str:token>/" in logs["web"]
    proxied = [line for line in logs["proxy"].splitlines() if re.match(r"\S+ (GET|POST) \d{3} \d+ ", line)]
    # The requests above: 3 single GETs; the short path's 3 form pages, each loaded then sent (6); the emergency
    # patient's first page loaded and sent, then the advice (3); and the health checks through the proxy.
    assert len(proxied) >= 12, logs["proxy"]


@pytest.fixture
def short_lived_pages_stack(tmp_path, smtp):
    """Behind the proxy, with public pages kept for 1 s (CLINIC_PUBLIC_PAGE_MAX_AGE)."""
    if not Path(NGINX).exists():
        service_missing(f"{NGINX} is missing (Debian package nginx)")
    with stack_behind_proxy(
        tmp_path, redis_db=E2E_REDIS_DB, smtp_url=smtp.url, extra_env={"CLINIC_PUBLIC_PAGE_MAX_AGE": "1"}
    ) as running:
        yield running


def test_when_gunicorn_cannot_answer_the_proxy_tells_the_patient_what_to_do(short_lived_pages_stack):
    """Not nginx's bare "502 Bad Gateway": a page with the clinic's number and the red flags' advice (the page of
    deploy/nginx/pages/, filled in as the nginx image does at start), its status kept for monitoring; the public
    pages the proxy keeps stay readable."""
    proxied_stack = short_lived_pages_stack
    proxy_env = compose_services()["proxy"]["environment"]
    defaults = {name: re.fullmatch(r"\$\{\w+:-(.*)\}", str(value)) for name, value in proxy_env.items()}
    # The page's defaults are the site's own (clinic/settings.py).
    from django.conf import settings

    for name in ("CLINIC_NAME", "CLINIC_PHONE", "CLINIC_EMERGENCY_NUMBER"):
        assert defaults[name].group(1) == getattr(settings, name), name
    # The compose file writes the page where nginx.conf's server looks for it.
    assert proxy_env["NGINX_ENVSUBST_OUTPUT_DIR"] == "/usr/share/nginx/html"
    assert "set $clinic_pages /usr/share/nginx/html;" in (ROOT / "deploy" / "nginx" / "nginx.conf").read_text()
    assert "./deploy/nginx/pages:/etc/nginx/templates:ro" in compose_services()["proxy"]["volumes"]
    assert PatientBrowser(proxied_stack.proxy_url).get("/request-a-callback/").status_code == 200
    home = requests.get(proxied_stack.proxy_url + "/", timeout=10)  # now in the proxy's cache, for 1 s
    proxied_stack.kill("web")
    time.sleep(2)
    # A public page the proxy kept is still served, past its lifetime, while gunicorn cannot answer.
    # (Debian's nginx 1.22 serves these stale by its failed background update alone, so this does not tell
    # `proxy_cache_use_stale ... error timeout http_502` apart; that directive is what nginx documents for it.)
    for _ in range(3):
        stale = requests.get(proxied_stack.proxy_url + "/", timeout=10)
        time.sleep(1)
        assert (stale.status_code, stale.headers["X-Cache-Status"]) == (200, "STALE")
        assert stale.content == home.content
    for method, path in (("GET", "/articles/"), ("GET", "/request-a-callback/"), ("POST", "/request-a-callback/")):
        response = requests.request(
            method, proxied_stack.proxy_url + path, data={"q-fever": "no"}, headers={"X-Forwarded-Proto": "https"},
            timeout=10,
        )  # fmt: skip
        assert response.status_code == 502, (method, path)
        page = response.text
        assert "<h1>Please try again in a moment</h1>" in page
        assert f'call {settings.CLINIC_NAME} on\n<a href="tel:{settings.CLINIC_PHONE}">' in page
        assert f'<a href="tel:{settings.CLINIC_EMERGENCY_NUMBER}">' in page and "cannot control your bladder" in page
        assert "$" not in page  # every ${NAME} was filled in
        assert response.headers["Cache-Control"] == "no-store"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"
