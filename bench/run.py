"""Benchmarks of the production-like stack: one command, figures printed and written to test-artifacts/bench.json.

    .venv/bin/python bench/run.py            # about 3 minutes on 2 cores
    .venv/bin/python bench/run.py --help     # durations, connections, number of submissions

Prerequisites (the same as the end-to-end tests):
- the project's virtualenv with requirements-test.txt installed (gunicorn, Celery, aiosmtpd, requests, psycopg);
- PostgreSQL on 127.0.0.1:5432, user `postgres` with trust authentication: a database `clinic_bench_<random>` is
  created for the run and dropped at the end;
- Redis on 127.0.0.1:6379: database number 12 (change with --redis-db), the run's broker and cache (as in
  docker-compose.yml, where the cache is Redis too), is flushed at the start and the end;
- `wrk`, the HTTP load generator, from Debian: `apt-get install -y wrk`.

What runs: the commands of docker-compose.yml's `release`, `web` (gunicorn, 3 sync workers) and `worker` (Celery)
services as local processes (tests/support/stack.py), with DJANGO_DEBUG=false and DJANGO_SETTINGS_MODULE=
bench.settings (the site's settings plus a bare view at /bench/bare/), and an SMTP server on loopback
(tests/support/smtp.py) whose per-message delay the script changes between phases. No beat process.

What is measured:
a) requests per second of every public page (home, article list, the article with the longest body, search
   without a query, privacy notice, booking's service list; target >= 0.8 of the reference), the callback form's
   first page (target >= 0.5), a static CSS file, /healthz and a bare view behind the site's middleware, against
   a bare Django project (bench/bare_project) under the same gunicorn command line: interleaved wrk runs, medians,
   ratios (bench/throughput.py); every response is checked to be a 200 in the gunicorn access logs. When a target
   is missed (or with --profile), bench/profile_article.py profiles the article view in-process with cProfile
   (test-artifacts/bench-article-profile.txt);
b) the callback request's final POST latency (median, p95, p99) with an SMTP server that answers at once and with
   one that takes 2 s per message (target: no difference; sending is the worker's job); each submission is a new
   patient walking the whole flow (bench/journey.py: the questionnaire steps, then the contact details);
c) time from the POST being sent to the staff e-mail arriving at the SMTP server, worker running, mail server
   answering at once (target p95 < 2 s); e-mails are matched to submissions by the reference in them;
d) peak resident memory (VmHWM) of each gunicorn worker and of the Celery main process and pool children.
"""

import argparse
import datetime as dt
import json
import logging
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script: the project's packages (tests.support, bench) importable
# This process only builds form data (dates in the clinic's opening hours): the default settings will do.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

import django  # noqa: E402

django.setup()
logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's per-command log lines

import psycopg  # noqa: E402
import redis  # noqa: E402

from bench.journey import shown_reference, submit_callback_request  # noqa: E402
from bench.throughput import BareProject, css_path_of, measure, proxy_targets, site_targets  # noqa: E402
from tests.support.net import wait_until  # noqa: E402
from tests.support.smtp import SmtpServer  # noqa: E402
from tests.support.stack import NGINX, POSTGRES_ADMIN_URL, PatientBrowser, Stack  # noqa: E402

RESULT_PATH = ROOT / "test-artifacts" / "bench.json"
PROFILE_PATH = ROOT / "test-artifacts" / "bench-article-profile.txt"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
SLOW_SMTP_SECONDS = 2.0
REFERENCE_IN_MAIL = re.compile(r"\bCB-[0-9A-Z]+\b")
TARGET_MAIL_P95_SECONDS = 2.0


class BenchStack(Stack):
    """The tests' Stack, with a database name of its own and the bench settings module."""

    def __init__(self, tmp_path: Path, *, redis_url: str, smtp_url: str):
        super().__init__(
            tmp_path,
            redis_url=redis_url,
            smtp_url=smtp_url,
            extra_env={
                "DJANGO_SETTINGS_MODULE": "bench.settings",
                "CLINIC_PATIENT_CONFIRMATION_EMAIL": "false",  # staff notifications only
            },
        )
        self.database = f"clinic_bench_{uuid.uuid4().hex[:10]}"
        self.env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{self.database}"


# Measuring helpers


def percentile(values: list[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary_ms(seconds: list[float]) -> dict:
    return {
        "count": len(seconds),
        "median_ms": round(statistics.median(seconds) * 1000, 1),
        "p95_ms": round(percentile(seconds, 95) * 1000, 1),
        "p99_ms": round(percentile(seconds, 99) * 1000, 1),
        "max_ms": round(max(seconds) * 1000, 1),
    }


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def peak_memory_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    kib = int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE).group(1))
    return round(kib / 1024, 1)


def machine() -> dict:
    meminfo = Path("/proc/meminfo").read_text()
    mem_kib = int(re.search(r"^MemTotal:\s+(\d+) kB", meminfo, re.MULTILINE).group(1))
    cpu_model = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
    with psycopg.connect(POSTGRES_ADMIN_URL) as conn:
        postgres = conn.execute("SHOW server_version").fetchone()[0]
    redis_version = redis.Redis(host=REDIS_HOST, port=REDIS_PORT).info("server")["redis_version"]
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False).stdout
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model.group(1) if cpu_model else "unknown",
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgresql": postgres,
        "redis": redis_version,
        "django": django.get_version(),
        "wrk": wrk_version.split(" [")[0].strip(),
    }


# The benchmarks


def article_slug(stack: Stack) -> str:
    """The published article with the longest body: the heaviest article page."""
    rows = stack.query("SELECT slug FROM clinic_article WHERE published ORDER BY length(body_html) DESC, id LIMIT 1")
    assert rows, "no published article: `manage.py release` should have loaded them (load_articles)"
    return rows[0][0]


def bench_throughput(stack: Stack, bare: BareProject, args) -> dict:
    slug = article_slug(stack)
    browser = PatientBrowser(stack.base_url)
    home = browser.get("/")
    assert home.status_code == 200, home.text[:2000]
    targets = site_targets(article_path=f"/articles/{slug}/", css_path=css_path_of(home.text))
    for target in targets[1:]:
        response = browser.get(target.path)
        assert response.status_code == 200, f"{target.path}: {response.status_code}\n{response.text[:2000]}"
    print(f"a) throughput against the bare Django project, {len(targets)} URLs", flush=True)
    result = measure(
        targets,
        {"bare": bare.base_url, "site": stack.base_url},
        {"bare": bare.log, "site": lambda: stack.log("web")},
        args,
    )
    result["article_path"] = f"/articles/{slug}/"
    return result


def bench_proxy(stack: Stack, bare: BareProject, args, throughput: dict) -> dict:
    """The same reference against nginx from Debian's package with the clinic's proxy rules and cache."""
    stack.start_proxy()
    css_path = next(row["path"] for row in throughput["rows"] if row["name"] == "static_css")
    targets = proxy_targets(article_path=throughput["article_path"], css_path=css_path)
    browser = PatientBrowser(stack.proxy_url)
    for target in targets[1:]:
        for _ in range(2):
            response = browser.http.get(stack.proxy_url + target.path, timeout=30)
            assert response.status_code == 200, f"{target.path}: {response.status_code}"
        assert response.headers.get("X-Cache-Status") == "HIT", (target.path, dict(response.headers))
    print(
        f"e) through the reverse proxy ({nginx_version()} from Debian, with its cache), {len(targets)} URLs", flush=True
    )
    result = measure(
        targets,
        {"bare": bare.base_url, "proxy": stack.proxy_url},
        {"bare": bare.log, "site": lambda: stack.log("web")},
        args,
    )
    reached = result["access_log_lines"]["site"]
    print(f"   requests that reached gunicorn during these rounds: {reached}", flush=True)
    result["nginx"] = nginx_version()
    return result


def nginx_version() -> str:
    out = subprocess.run([NGINX, "-v"], capture_output=True, text=True, check=False)
    return (out.stderr or out.stdout).strip().removeprefix("nginx version: ")


def profile_article(stack: Stack, article_path: str) -> dict:
    """Where the article view's time goes (bench/profile_article.py), written next to the JSON result."""
    slug = article_path.strip("/").split("/")[-1]
    profiled = stack.run_once([sys.executable, "-m", "bench.profile_article", slug, "500"])
    assert profiled.returncode == 0, profiled.stdout + profiled.stderr
    PROFILE_PATH.parent.mkdir(parents=True, exist_ok=True)
    PROFILE_PATH.write_text(profiled.stdout)
    lines = profiled.stdout.splitlines()
    in_process = next(line for line in lines if line.startswith("in-process"))
    print(f"   profile: {in_process}\n   cProfile of the article view: {PROFILE_PATH.relative_to(ROOT)}", flush=True)
    return {"in_process": in_process, "cprofile": str(PROFILE_PATH.relative_to(ROOT))}


def submit_many(stack: Stack, count: int) -> list[dict]:
    """`count` sequential submissions, each by a new patient: POST latency, send time and shown reference."""
    done = []
    for _ in range(count):
        browser = PatientBrowser(stack.base_url)
        response = submit_callback_request(browser)
        finished = time.time()
        elapsed = response.elapsed.total_seconds()
        reference = shown_reference(browser, response)
        done.append({"reference": reference, "latency": elapsed, "sent_at": finished - elapsed})
    return done


def staff_mail_delays(smtp: SmtpServer, submissions: list[dict], *, timeout: float) -> list[float]:
    """Seconds from each POST being sent to the first staff e-mail naming its reference arriving."""
    wanted = {item["reference"]: item["sent_at"] for item in submissions}

    def arrived() -> dict | None:
        first: dict[str, float] = {}
        for received_at, message in smtp.arrivals:
            for reference in REFERENCE_IN_MAIL.findall(f"{message['Subject']}\n{message.get_content()}"):
                if reference in wanted:
                    first.setdefault(reference, received_at)
        return first if len(first) == len(wanted) else None

    first = wait_until(arrived, timeout=timeout, interval=0.5, what="every staff e-mail to arrive")
    return [first[reference] - sent_at for reference, sent_at in wanted.items()]


def bench_callbacks(stack: Stack, smtp: SmtpServer, args) -> dict:
    results = {}
    print(f"b) callback POST latency, {args.submissions} sequential submissions per SMTP mode", flush=True)
    for mode, delay in (("smtp_instant", 0.0), ("smtp_2s_per_message", SLOW_SMTP_SECONDS)):
        smtp.handler.delay_seconds = delay
        phase_started = time.monotonic()
        submit_many(stack, 5)  # warm-up, not measured
        submissions = submit_many(stack, args.submissions)
        latency = summary_ms([item["latency"] for item in submissions])
        results[mode] = {"smtp_delay_seconds": delay, "post_latency": latency}
        print(
            f"   {mode:20} median {latency['median_ms']} ms, p95 {latency['p95_ms']} ms,"
            f" p99 {latency['p99_ms']} ms, max {latency['max_ms']} ms"
            f"  ({time.monotonic() - phase_started:.0f} s)",
            flush=True,
        )
        if delay == 0.0:
            delays = staff_mail_delays(smtp, submissions, timeout=120)
            mail = {
                "count": len(delays),
                "p50_s": round(percentile(delays, 50), 3),
                "p95_s": round(percentile(delays, 95), 3),
                "max_s": round(max(delays), 3),
                "target": f"p95 < {TARGET_MAIL_P95_SECONDS} s",
                "met": percentile(delays, 95) < TARGET_MAIL_P95_SECONDS,
            }
            results["submit_to_staff_mail"] = mail
    fast, slow = results["smtp_instant"]["post_latency"], results["smtp_2s_per_message"]["post_latency"]
    results["slow_over_instant"] = {key: round(slow[key] / fast[key], 2) for key in ("median_ms", "p95_ms", "p99_ms")}
    # "No difference": the slow mail server must not add anything like its 2 s to the form's answer.
    results["target"] = "no difference: slow-SMTP median, p95 and p99 each within 100 ms of instant-SMTP's"
    results["met"] = all(slow[key] <= fast[key] + 100 for key in ("median_ms", "p95_ms", "p99_ms"))
    print(
        f"   slow/instant ratio: {results['slow_over_instant']}"
        f" (target no difference: {'met' if results['met'] else 'NOT met'})",
        flush=True,
    )
    mail = results["submit_to_staff_mail"]
    print(
        f"c) submit to staff e-mail (instant SMTP, {mail['count']} e-mails): p50 {mail['p50_s']} s,"
        f" p95 {mail['p95_s']} s, max {mail['max_s']} s"
        f" (target p95 < {TARGET_MAIL_P95_SECONDS} s: {'met' if mail['met'] else 'NOT met'})",
        flush=True,
    )
    return results


def bench_memory(stack: Stack) -> dict:
    web_master = stack.processes["web"].pid
    worker_main = stack.processes["worker"].pid
    web_workers = {pid: peak_memory_mib(pid) for pid in children(web_master)}
    pool = {pid: peak_memory_mib(pid) for pid in children(worker_main)}
    result = {
        "gunicorn_master_mib": peak_memory_mib(web_master),
        "gunicorn_workers_mib": sorted(web_workers.values()),
        "celery_main_mib": peak_memory_mib(worker_main),
        "celery_pool_children_mib": sorted(pool.values()),
    }
    print(
        f"d) peak memory (VmHWM): gunicorn workers {result['gunicorn_workers_mib']} MiB"
        f" (master {result['gunicorn_master_mib']}), Celery main {result['celery_main_mib']} MiB,"
        f" pool children {result['celery_pool_children_mib']} MiB",
        flush=True,
    )
    return result


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=8, help="duration of each wrk run (default 8)")
    parser.add_argument("--rounds", type=int, default=3, help="wrk runs per URL, interleaved (default 3)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of wrk warm-up per URL (default 3)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument("--submissions", type=int, default=200, help="callback submissions per SMTP mode")
    parser.add_argument("--redis-db", type=int, default=12, help="Redis database number, flushed (default 12)")
    parser.add_argument("--skip-proxy", action="store_true", help="do not measure through nginx")
    parser.add_argument("--skip-callbacks", action="store_true", help="measure throughput (and memory) only")
    parser.add_argument("--profile", action="store_true", help="profile the article view even if the ratio is met")
    parser.add_argument("--output", type=Path, default=RESULT_PATH, help="where to write the JSON result")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    if shutil.which("wrk") is None:
        print("wrk is missing: install it with `apt-get install -y wrk` (Debian package).", file=sys.stderr)
        return 2
    assert args.redis_db != 0, "use a Redis database other than 0"
    redis_client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=args.redis_db)
    try:
        redis_client.ping()
        psycopg.connect(POSTGRES_ADMIN_URL).close()
    except (redis.ConnectionError, psycopg.OperationalError) as error:
        print(f"PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) must be running: {error}", file=sys.stderr)
        return 2
    redis_client.flushdb()
    tmp_path = Path(tempfile.mkdtemp(prefix="clinic-bench-"))
    started = time.monotonic()
    ok = False
    result: dict = {
        "date": dt.date.today().isoformat(),
        "command": "python bench/run.py " + " ".join(sys.argv[1:]),
        "machine": machine(),
        # Other work on the machine skews the figures: the load before the run is kept with them.
        "load_average_1_5_15_min_at_start": [round(load, 2) for load in os.getloadavg()],
    }
    print(f"machine: {result['machine']}", flush=True)
    with SmtpServer() as smtp:
        stack = BenchStack(tmp_path, redis_url=f"redis://{REDIS_HOST}:{REDIS_PORT}/{args.redis_db}", smtp_url=smtp.url)
        try:
            stack.prepare()
            stack.start("web")
            stack.start("worker")
            stack.wait_healthy()
            wait_until(lambda: "ready" in stack.log("worker"), timeout=60, what=f"the worker\n{stack.log('worker')}")
            result["gunicorn_command"] = " ".join(["gunicorn", *stack.service_command("web")[1:]])
            bare = BareProject(tmp_path, stack.service_command("web")[2:], stack.env)
            bare.start(ROOT)
            try:
                result["throughput"] = bench_throughput(stack, bare, args)
                if not args.skip_proxy:
                    result["proxy"] = bench_proxy(stack, bare, args, result["throughput"])
            finally:
                bare.stop()
            if not result["throughput"]["met"] or args.profile:
                result["throughput"]["profile"] = profile_article(stack, result["throughput"]["article_path"])
            if not args.skip_callbacks:
                result["callbacks"] = bench_callbacks(stack, smtp, args)
            result["peak_memory"] = bench_memory(stack)
            tracebacks = [name for name in ("web", "worker") if "Traceback" in stack.log(name)]
            assert not tracebacks, f"tracebacks in {tracebacks}: see {tmp_path}"
            ok = True
        except BaseException:
            print(f"bench failed; the processes' logs are in {tmp_path}", file=sys.stderr)
            raise
        finally:
            stack.stop()
            redis_client.flushdb()
    result["duration_seconds"] = round(time.monotonic() - started)
    result["load_average_1_5_15_min_at_end"] = [round(load, 2) for load in os.getloadavg()]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
    if ok:
        shutil.rmtree(tmp_path, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
