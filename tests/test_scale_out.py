"""Scaling out (issue 28, item 6): what `docker compose up --scale web=2 --scale worker=2` gives, as local processes.

Two gunicorns behind one nginx, two workers plus the urgent lane's, and beat started twice, against one PostgreSQL
and a Redis of the test's own: every patient's request is e-mailed to staff exactly once, an article edited by
staff is served by every process within the documented time, and only one beat runs the schedule.
"""

import base64
import itertools
import json
import signal
import sys
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests

from clinic.public_pages import VERSION_RECHECK_SECONDS
from tests.callbacks.web.test_forms import form_data
from tests.support.net import SourceAddressAdapter, wait_until
from tests.support.smtp import SmtpServer
from tests.support.stack import PatientBrowser, Stack
from tests.test_reliability import record

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

PATIENTS = 40
PAGE_MAX_AGE = 5
ARTICLE = "what-is-a-back-spasm"
# Every periodic job that can run often, every JOB_EVERY seconds, so a window of a few runs shows doubles.
JOB_EVERY = 4
FAST_JOBS = {
    "OUTBOX_REQUEUE_EVERY_SECONDS": str(JOB_EVERY),
    "OUTBOX_REQUEUE_URGENT_EVERY_SECONDS": str(JOB_EVERY),
    "ESCALATION_CHECK_EVERY_SECONDS": str(JOB_EVERY),
    "FOLLOW_UP_CHECK_EVERY_SECONDS": str(JOB_EVERY),
    "HEARTBEAT_EVERY_SECONDS": str(JOB_EVERY),
    "CALL_TODAY_CHECK_EVERY_SECONDS": str(JOB_EVERY),
    "CANCELLATIONS_RELEASE_EVERY_SECONDS": str(JOB_EVERY),
}


def patient_at(base_url: str, n: int) -> PatientBrowser:
    patient = PatientBrowser(base_url)
    patient.http.mount("http://", SourceAddressAdapter(f"127.0.{n // 250}.{n % 250 + 2}"))
    return patient


class QueueWatcher:
    """Takes every task message beat publishes off the Redis queues (no worker runs) and notes when it came."""

    def __init__(self, url: str, queues=("routine", "urgent")):
        self.client = redis.Redis.from_url(url)
        self.queues = list(queues)
        self.arrivals: dict[str, list[float]] = defaultdict(list)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            popped = self.client.brpop(self.queues, timeout=1)
            if popped is None:
                continue
            message = json.loads(popped[1])
            _, kwargs, _ = json.loads(base64.b64decode(message["body"]))
            # One job per lane's re-queue and per queue's heartbeat.
            part = kwargs.get("lane") or kwargs.get("queue")
            job = message["headers"]["task"] + (f"[{part}]" if part else "")
            self.arrivals[job].append(time.monotonic())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)


def shortest_gap(times: list[float]) -> float:
    return min((later - earlier for earlier, later in itertools.pairwise(times)), default=float("inf"))


def test_two_beats_started_together_queue_each_periodic_job_once_and_the_second_takes_over(tmp_path, own_redis):
    stack = Stack(
        tmp_path,
        redis_url=own_redis.url,
        smtp_url="smtp://127.0.0.1:9",
        extra_env={**FAST_JOBS, "CLINIC_BEAT_LOCK_SECONDS": "6"},
    )
    try:
        with QueueWatcher(own_redis.url) as watcher:
            stack.start("beat")
            stack.start("beat-2", service="beat")
            time.sleep(5 * JOB_EVERY + 1)
            runs = {job: list(times) for job, times in watcher.arrivals.items()}

            assert set(runs) == {
                "callbacks.tasks.outbox_requeue_stale[routine]",
                "callbacks.tasks.outbox_requeue_stale[urgent]",
                "callbacks.tasks.callback_requests_escalate_overdue",
                "callbacks.tasks.follow_ups_send_due",
                "callbacks.tasks.callback_requests_tell_call_today",
                "callbacks.tasks.appointment_cancellations_release",
                "clinic.tasks.heartbeat[routine]",
                "clinic.tasks.heartbeat[urgent]",
            }, runs
            for job, times in runs.items():
                # One beat: a run every JOB_EVERY seconds (4 or 5 in the window); two would give twice as many,
                # each pair close together.
                assert 3 <= len(times) <= 5, (job, len(times))
                assert shortest_gap(times) > JOB_EVERY - 1, (job, shortest_gap(times))
            holding = [name for name in ("beat", "beat-2") if "holding the beat lock" in stack.log(name)]
            assert len(holding) == 1, {name: stack.log(name)[-1500:] for name in ("beat", "beat-2")}
            (holder,) = holding
            waiter = "beat-2" if holder == "beat" else "beat"
            assert "another beat is running the schedule; this one waits" in stack.log(waiter)

            # The holder dies without a word (its lock is left to expire): the other takes over within the lock's
            # time to live, and the jobs go on, still once each.
            stack.kill(holder, signal.SIGKILL)
            killed = time.monotonic()
            wait_until(
                lambda: "holding the beat lock" in stack.log(waiter),
                timeout=15,
                what=f"the waiting beat to take over\n{stack.log(waiter)[-2000:]}",
            )
            took_over_after = time.monotonic() - killed
            time.sleep(3 * JOB_EVERY + 1)
            after = {job: [t for t in times if t > killed] for job, times in watcher.arrivals.items()}
            for job, times in after.items():
                assert len(times) >= 2, (job, times)
                assert shortest_gap(times) > JOB_EVERY - 1, (job, shortest_gap(times))
        assert took_over_after <= 6 + 2
        record("beat_lock", {"lock_ttl_s": 6, "took_over_after_holder_killed_s": round(took_over_after, 1)})
    finally:
        stack.stop()


def healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=5).status_code == 200
    except (requests.ConnectionError, requests.Timeout):  # not listening yet
        return False


def article_title_edit(stack: Stack, title: str) -> None:
    """Staff's edit, through the service the admin calls (clinic.articles.services.article_save)."""
    code = (
        "from clinic.models import Article\n"
        "from clinic.articles.services import article_save\n"
        f"article = Article.objects.get(slug={ARTICLE!r})\n"
        f"article.title = {title!r}\n"
        "article_save(article=article)\n"
    )
    edited = stack.run_once([sys.executable, "manage.py", "shell", "-c", code])
    assert edited.returncode == 0, edited.stdout + edited.stderr


_checker_addresses = itertools.count()


def titles_served(url: str, rounds: int = 6) -> set[bool]:
    """Whether each of several anonymous GETs of the article (landing on different gunicorn workers) showed the
    new title. Each check comes from a loopback address of its own: the proxy's per-client rate would otherwise
    refuse the test's polling."""
    n = next(_checker_addresses)
    http = requests.Session()
    http.mount("http://", SourceAddressAdapter(f"127.1.{n // 250}.{n % 250 + 2}"))
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1"}
    seen = set()
    for _ in range(rounds):
        response = http.get(f"{url}/articles/{ARTICLE}/", headers=headers, timeout=10, allow_redirects=False)
        assert response.status_code == 200, response.status_code
        seen.add("Edited for the scale-out test" in response.text)
    return seen


def test_two_webs_two_workers_and_two_beats_behind_nginx(tmp_path, own_redis):
    with SmtpServer() as smtp:
        stack = Stack(
            tmp_path,
            redis_url=own_redis.url,
            smtp_url=smtp.url,
            extra_env={
                "CLINIC_PROXY_COUNT": "1",
                "CLINIC_PUBLIC_PAGE_MAX_AGE": str(PAGE_MAX_AGE),
                "CLINIC_PATIENT_CONFIRMATION_EMAIL": "false",
                "OUTBOX_STALE_AFTER_SECONDS": "5",
                "OUTBOX_REQUEUE_EVERY_SECONDS": "2",
                "OUTBOX_REQUEUE_URGENT_EVERY_SECONDS": "2",
            },
        )
        stack.prepare()
        try:
            stack.start("web")
            stack.wait_healthy()
            second_port = stack.add_web("web-2")
            wait_until(
                lambda: healthy(f"http://127.0.0.1:{second_port}"),
                timeout=60,
                what=f"the second gunicorn\n{stack.log('web-2')}",
            )
            stack.start("worker")
            stack.start("worker-2", service="worker", extra_args=("--hostname=worker2@%h",))
            stack.start("worker-urgent")
            stack.start("beat")
            stack.start("beat-2", service="beat")
            stack.start_proxy()

            # N patients at once through the proxy, each from an address of their own.
            def send(n):
                patient = patient_at(stack.proxy_url, n)
                return patient.request_callback(form_data(name=f"Scale Patient {n}")).status_code

            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=8) as pool:
                codes = list(pool.map(send, range(PATIENTS)))
            sent_in = time.monotonic() - started
            assert codes == [302] * PATIENTS
            wait_until(
                lambda: len(smtp.messages) >= PATIENTS,
                timeout=120,
                what=f"{PATIENTS} staff e-mails\n{stack.log('worker')[-2000:]}",
            )
            time.sleep(8)  # a second send (two beats re-queueing, two workers taking one row) would arrive now
            ids = Counter(message["Message-ID"] for message in smtp.messages)
            references = Counter(
                reference for (reference,) in stack.query("SELECT reference FROM callbacks_callbackrequest")
            )
            assert len(references) == PATIENTS
            assert len(ids) == PATIENTS and sum(ids.values()) == PATIENTS, ids.most_common(3)
            assert {message["To"] for message in smtp.messages} == {"frontdesk@clinic.test"}
            assert sorted(
                next(ref for ref in references if ref in message["Subject"]) for message in smtp.messages
            ) == sorted(references)
            assert dict(stack.query("SELECT status, count(*) FROM callbacks_notification GROUP BY status")) == {
                "sent": PATIENTS
            }
            # The proxy used both gunicorns, and both workers sent.
            for web in ("web", "web-2"):
                assert "/your-details/" in stack.log(web), f"{web} served no patient"
            senders = [name for name in ("worker", "worker-2") if "sent after" in stack.log(name)]
            assert len(senders) == 2, senders
            holding = [name for name in ("beat", "beat-2") if "holding the beat lock" in stack.log(name)]
            assert len(holding) == 1

            # The page cache: every gunicorn worker and the proxy hold the article, then staff edit it.
            for _ in range(3):
                for url in (stack.base_url, f"http://127.0.0.1:{second_port}", stack.proxy_url):
                    assert titles_served(url) == {False}
            article_title_edit(stack, "What is a back spasm? Edited for the scale-out test")
            edited = time.monotonic()
            coherent_after = {}
            while len(coherent_after) < 3 and time.monotonic() - edited < PAGE_MAX_AGE + VERSION_RECHECK_SECONDS + 10:
                for name, url in (
                    ("web", stack.base_url),
                    ("web-2", f"http://127.0.0.1:{second_port}"),
                    ("proxy", stack.proxy_url),
                ):
                    if name not in coherent_after and titles_served(url) == {True}:
                        coherent_after[name] = time.monotonic() - edited
                time.sleep(0.2)
            assert set(coherent_after) == {"web", "web-2", "proxy"}, coherent_after
            # Documented (README, "Running a bigger clinic"): a gunicorn within VERSION_RECHECK_SECONDS, the
            # proxy within that plus CLINIC_PUBLIC_PAGE_MAX_AGE.
            assert coherent_after["web"] <= VERSION_RECHECK_SECONDS + 1.5
            assert coherent_after["web-2"] <= VERSION_RECHECK_SECONDS + 1.5
            assert coherent_after["proxy"] <= VERSION_RECHECK_SECONDS + PAGE_MAX_AGE + 1.5
            record(
                "scale_out",
                {
                    "web_processes": 2,
                    "workers": "2 + worker-urgent",
                    "beats_started": 2,
                    "patients": PATIENTS,
                    "all_sent_in_s": round(sent_in, 1),
                    "staff_emails": len(ids),
                    "duplicates": sum(ids.values()) - len(ids),
                    "article_edit_served_by_s": {name: round(value, 1) for name, value in coherent_after.items()},
                    "public_page_max_age_s": PAGE_MAX_AGE,
                },
            )
        finally:
            stack.stop()
