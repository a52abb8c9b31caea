"""PostgreSQL stopped for 10 seconds while patients send requests (issue 28): every patient either goes through
or is asked to try again in a moment with what they typed kept; nothing is stored half-way or twice; every
request is notified exactly once; the site recovers without restarting any process. docs/RELIABILITY.md."""

import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from html import unescape

import pytest
import requests

from tests.callbacks.web.test_forms import form_data
from tests.support.net import wait_until
from tests.support.postgres_server import PostgresCluster
from tests.support.questionnaire import NO_RED_FLAGS, SCREENING_STEPS, step_data
from tests.support.redis_server import RedisServer
from tests.support.smtp import SmtpServer
from tests.support.stack import PatientBrowser, Stack
from tests.test_reliability import FAST_RECOVERY, record

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

PATIENTS = 24
OUTAGE_SECONDS = 10
ARRIVAL_EVERY_SECONDS = 0.6
HIDDEN = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)">')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Patient:
    """A patient who, like a person at a browser, presses "Try again" (or reloads) after a pause when asked to."""

    def __init__(self, base_url: str, seen: Counter, lock: threading.Lock):
        self.browser = PatientBrowser(base_url)
        self.seen, self.lock = seen, lock

    def _count(self, response) -> None:
        with self.lock:
            self.seen[response.status_code] += 1

    def get(self, path: str) -> requests.Response:
        for _ in range(60):
            response = self.browser.get(path)
            self._count(response)
            if response.status_code != 503:
                return response
            assert "Reload the page" in response.text
            time.sleep(1)
        raise AssertionError(f"GET {path} still 503 after a minute")

    def post(self, path: str, data: dict) -> requests.Response:
        page = self.get(path)
        fields = {**data, "csrfmiddlewaretoken": CSRF.search(page.text).group(1)}
        for _ in range(60):
            response = self.browser.http.post(
                self.browser.base_url + path,
                data=fields,
                headers=self.browser._headers(path),
                allow_redirects=False,
                timeout=30,
            )
            self.browser._keep_cookies(response)
            self._count(response)
            if response.status_code != 503:
                return response
            # "Try again" sends back exactly what the page kept: check it is what was typed.
            kept: dict[str, list[str]] = {}
            for name, value in HIDDEN.findall(response.text):
                kept.setdefault(unescape(name), []).append(unescape(value))
            for name, value in data.items():
                assert kept.get(name) == (value if isinstance(value, list) else [str(value)]), (name, kept)
            fields = kept
            time.sleep(1)
        raise AssertionError(f"POST {path} still 503 after a minute")

    def request_callback(self, n: int) -> str:
        path = "/request-a-callback/"
        for step in SCREENING_STEPS:
            response = self.post(path, step_data(NO_RED_FLAGS[step]))
            assert response.status_code == 302, (step, response.status_code, response.text[:500])
            path = response.headers["Location"]
        sent = self.post(path, form_data(name=f"Restart Patient {n}", phone=f"07400 1{n:05d}"))
        assert sent.status_code == 302 and sent.headers["Location"].endswith("/thank-you/"), sent.text[:500]
        done = self.get(sent.headers["Location"])
        return re.search(r'id="reference"[^>]*>([^<]+)<', done.text).group(1).strip()


@pytest.fixture
def cluster():
    server = PostgresCluster()
    server.create()
    yield server
    server.drop()


def test_postgresql_stopped_for_ten_seconds_during_traffic(tmp_path, cluster):
    redis_server = RedisServer(tmp_path)
    redis_server.start()
    with SmtpServer() as smtp:
        stack = Stack(
            tmp_path,
            redis_url=redis_server.url,
            smtp_url=smtp.url,
            # Re-queue every second, but only rows 30 s overdue: as in production (120 s), a restart is shorter.
            extra_env={**FAST_RECOVERY, "OUTBOX_STALE_AFTER_SECONDS": "30"},
            postgres_port=cluster.port,
        )
        stack.prepare()
        try:
            for name in ("web", "worker", "beat"):
                stack.start(name)
            stack.wait_healthy()
            pids = {name: process.pid for name, process in stack.processes.items()}
            seen: Counter = Counter()
            lock = threading.Lock()

            def outage():
                time.sleep(3)
                cluster.stop()
                stopped = time.monotonic()
                time.sleep(OUTAGE_SECONDS)
                cluster.start()
                started = time.monotonic()
                wait_until(lambda: _healthy(stack), timeout=60, what="/healthz after the restart")
                return started - stopped, time.monotonic() - started

            def patient(n: int) -> str:
                # Patients arrive one every 0.6 s, so that journeys are under way before, during and after it.
                time.sleep(n * ARRIVAL_EVERY_SECONDS)
                return Patient(stack.base_url, seen, lock).request_callback(n)

            with ThreadPoolExecutor(max_workers=PATIENTS + 1) as pool:
                restart = pool.submit(outage)
                references = list(pool.map(patient, range(PATIENTS)))
                stopped_for, recovered_after = restart.result()

            # Every patient ended with a reference, one request each, nothing half-way.
            assert len(set(references)) == PATIENTS
            rows = stack.query("SELECT name, count(*) FROM callbacks_callbackrequest GROUP BY name")
            assert sorted(count for _, count in rows) == [1] * PATIENTS
            orphans = stack.query(
                "SELECT count(*) FROM intake_questionnaireresponse r WHERE NOT EXISTS "
                "(SELECT 1 FROM callbacks_callbackrequest c WHERE c.questionnaire_response_id = r.id)"
            )[0][0]
            assert orphans == 0
            assert set(seen) <= {200, 302, 503}, seen
            assert seen[503] > 0, "the outage was met by patients"
            # Each request's staff e-mail exactly once.
            wait_until(lambda: len(smtp.messages) >= PATIENTS, timeout=120, what=f"{PATIENTS} e-mails")
            time.sleep(3)
            ids = Counter(message["Message-ID"] for message in smtp.messages)
            assert len(ids) == PATIENTS and set(ids.values()) == {1}
            # The same processes, still running: nothing was restarted.
            assert {name: process.pid for name, process in stack.processes.items()} == pids
            assert all(process.poll() is None for process in stack.processes.values())
            record(
                "postgresql_stopped_10s",
                {
                    "patients": PATIENTS,
                    "stopped_for_s": round(stopped_for, 1),
                    "answers_503_try_again": seen[503],
                    "answers_500": seen[500],
                    "requests_stored": PATIENTS,
                    "duplicates": 0,
                    "healthz_ok_after_start_s": round(recovered_after, 1),
                },
            )
        finally:
            stack.stop()
            redis_server.stop()


def _healthy(stack) -> bool:
    try:
        return requests.get(f"{stack.base_url}/healthz", timeout=5).status_code == 200
    except (requests.ConnectionError, requests.Timeout):
        return False
