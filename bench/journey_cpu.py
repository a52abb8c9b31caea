"""The CPU one patient journey costs inside the Django process, and where it goes (issue 28's surge ceiling).

    .venv/bin/python bench/journey_cpu.py                 # 5 warm-up journeys, then 7 rounds of 20; about a minute
    .venv/bin/python bench/journey_cpu.py --profile 60    # also a cProfile of 60 journeys, by cumulative time

The same journey as bench/surge.py's locust patients (the callback form's first page, both screening steps and the
details: three pages loaded and three forms sent), through Django's test client in this process, with production
settings (DEBUG off) on a PostgreSQL database made for the run (and dropped), Redis as the cache and the Celery
broker (a Redis server of the run's own, tests/support/redis_server.py). No web server, no network: the figure is
the process's own
CPU time (time.process_time) per journey, the best of the rounds (7 of 20 by default), which is what gunicorn
spends in Python per journey less the WSGI server's share; then each request's mean. Queries per journey are
counted once (JOURNEY_CPU_SQL=1 prints them).
"""

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.support.redis_server import RedisServer  # noqa: E402

DATABASE = f"clinic_journey_cpu_{uuid.uuid4().hex[:8]}"
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-journey-cpu-" + "x" * 40,
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
        "CLINIC_PROXY_COUNT": "1",
        "DJANGO_STATIC_ROOT": str(ROOT / "test-artifacts" / "journey-cpu-static"),
    }
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--journeys", type=int, default=20, help="journeys per round")
    parser.add_argument("--profile", type=int, default=0, help="then profile this many journeys")
    parser.add_argument("--only", default="", help='profile only this request, e.g. "POST step 3"')
    options = parser.parse_args()
    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{DATABASE}"')
    with tempfile.TemporaryDirectory() as folder:
        redis_server = RedisServer(Path(folder))
        redis_server.start()
        os.environ.update({"CACHE_URL": redis_server.url, "CELERY_BROKER_URL": redis_server.url})
        try:
            return run(options)
        finally:
            redis_server.stop()
            _database_drop()


def _database_drop() -> None:
    from django.db import connections

    connections.close_all()
    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def run(options) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from tests.callbacks.web.test_forms import form_data
    from tests.support.questionnaire import NO_RED_FLAGS, SCREENING_STEPS, step_data

    call_command("migrate", verbosity=0)
    call_command("collectstatic", verbosity=0, interactive=False)
    steps = [step_data(NO_RED_FLAGS[step]) for step in SCREENING_STEPS] + [form_data()]
    numbers = iter(range(100_000, 999_999))

    client = Client(HTTP_X_FORWARDED_PROTO="https", REMOTE_ADDR="127.0.0.1")

    per_request: dict[str, float] = {}
    profiling = []

    only = cProfile.Profile() if options.only else None

    def timed(label, call, *args, **kwargs):
        started = time.process_time()
        if only is not None and label == options.only and profiling:
            response = only.runcall(call, *args, **kwargs)
        else:
            response = call(*args, **kwargs)
        per_request[label] = per_request.get(label, 0.0) + time.process_time() - started
        return response

    def journey():
        n = next(numbers)  # each patient from an address of their own, as in the surge: the limits are per address
        address = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
        # One client (one handler, its middleware loaded once, as in a gunicorn worker); a new patient's cookies.
        client.cookies.clear()
        client.defaults["HTTP_X_FORWARDED_FOR"] = address
        path = "/request-a-callback/"
        for number, fields in enumerate(steps):
            page = timed(f"GET step {number + 1}", client.get, path, secure=True)
            assert page.status_code == 200, (path, page.status_code)
            data = {**fields, "csrfmiddlewaretoken": page.context["csrf_token"] if page.context else ""}
            if number == len(steps) - 1:
                data["phone"] = f"07400 {n:06d}"
            response = timed(f"POST step {number + 1}", client.post, path, data, secure=True)
            assert response.status_code == 302, (path, response.status_code, response.content[:2000])
            path = response["Location"]

    for _ in range(5):
        journey()
    queries = []
    with connection.execute_wrapper(lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)):
        journey()
    per_request.clear()
    rounds = []
    for _ in range(options.rounds):
        started = time.process_time()
        for _ in range(options.journeys):
            journey()
        rounds.append((time.process_time() - started) * 1000 / options.journeys)
    print(f"queries per journey: {len(queries)}")
    if os.environ.get("JOURNEY_CPU_SQL"):
        print("\n".join(sql[:220] for sql in queries))
    print("CPU-ms per journey, each round:", " ".join(f"{r:.1f}" for r in rounds))
    print(f"best {min(rounds):.1f} ms, median {sorted(rounds)[len(rounds) // 2]:.1f} ms")
    total = options.rounds * options.journeys
    print("by request (mean CPU-ms):", ", ".join(f"{k} {v * 1000 / total:.1f}" for k, v in per_request.items()))
    if options.profile:
        profiling.append(True)
        profiler = only or cProfile.Profile()
        if only is None:
            profiler.enable()
        for _ in range(options.profile):
            journey()
        if only is None:
            profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(70)
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(40)
        (ROOT / "test-artifacts").mkdir(exist_ok=True)
        (ROOT / "test-artifacts" / "bench-journey-profile.txt").write_text(out.getvalue())
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
