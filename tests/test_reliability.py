"""Fault tests of the notification outbox (docs/RELIABILITY.md): real gunicorn, Celery worker and beat processes,
a Redis of the test's own that can be stopped, the local PostgreSQL, and a real SMTP server on loopback.
"""

import json
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter

import pytest

from tests.callbacks.web.test_forms import form_data
from tests.support.lanes import emergency_behind_backlog
from tests.support.net import wait_until
from tests.support.smtp import SmtpServer
from tests.support.stack import ROOT, PatientBrowser, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

ARTIFACTS = ROOT / "test-artifacts"
FAST_RECOVERY = {
    "OUTBOX_REQUEUE_EVERY_SECONDS": "1",
    "OUTBOX_REQUEUE_URGENT_EVERY_SECONDS": "1",
    "OUTBOX_STALE_AFTER_SECONDS": "3",
    "ESCALATION_CHECK_EVERY_SECONDS": "3600",
    "CLINIC_PATIENT_CONFIRMATION_EMAIL": "false",
    # Beat's heartbeats (tests/test_heartbeat_stack.py) would add lines of their own to the beat log read below.
    "HEARTBEAT_EVERY_SECONDS": "3600",
    "HEARTBEAT_STALE_AFTER_SECONDS": "7200",
}


def record(name: str, figures: dict) -> None:
    """Keep the measured figures of a run for docs/RELIABILITY.md."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "reliability.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results[name] = figures
    path.write_text(json.dumps(results, indent=2, sort_keys=True))


def make_stack(tmp_path, own_redis, smtp, **extra_env):
    stack = Stack(tmp_path, redis_url=own_redis.url, smtp_url=smtp.url, extra_env={**FAST_RECOVERY, **extra_env})
    stack.prepare()
    return stack


def submit(patient: PatientBrowser, n: int) -> tuple[int, float]:
    """One patient's whole request (questionnaire, then details): the final POST's status and latency."""
    response = patient.request_callback(form_data(name=f"Fault Patient {n}"))
    return response.status_code, response.elapsed.total_seconds()


def message_ids(smtp) -> Counter:
    return Counter(message["Message-ID"] for message in smtp.messages)


def statuses(stack) -> dict:
    return dict(stack.query("SELECT status, count(*) FROM callbacks_notification GROUP BY status"))


def test_redis_down_during_a_burst_loses_nothing_and_sends_once(tmp_path, own_redis):
    with SmtpServer() as smtp:
        stack = make_stack(tmp_path, own_redis, smtp)
        try:
            stack.start("web")
            stack.start("worker")
            stack.start("beat")
            stack.wait_healthy()

            own_redis.stop()
            patient = PatientBrowser(stack.base_url)
            results = [submit(patient, n) for n in range(50)]
            assert [code for code, _ in results] == [302] * 50
            (saved,) = stack.query("SELECT count(*) FROM callbacks_callbackrequest")
            assert saved == (50,)
            assert statuses(stack) == {"pending": 50}

            own_redis.start()
            back = time.perf_counter()
            wait_until(lambda: len(smtp.messages) >= 50, timeout=120, what=f"50 e-mails\n{stack.log('worker')[-3000:]}")
            delivered_after = time.perf_counter() - back
            time.sleep(5)  # anything sent twice would arrive now

            ids = message_ids(smtp)
            duplicates = sum(count - 1 for count in ids.values())
            assert len(ids) == 50
            assert duplicates == 0
            assert statuses(stack) == {"sent": 50}
            latencies = sorted(seconds for _, seconds in results)
            record(
                "redis_down_burst",
                {
                    "requests": 50,
                    "answered_302": 50,
                    "saved": 50,
                    "post_latency_median_s": round(statistics.median(latencies), 3),
                    "post_latency_max_s": round(latencies[-1], 3),
                    "all_delivered_after_redis_back_s": round(delivered_after, 1),
                    "duplicates": duplicates,
                },
            )
        finally:
            stack.stop()


def test_worker_killed_mid_send_delivers_exactly_once(tmp_path, own_redis):
    with SmtpServer(delay_seconds=4) as smtp:
        stack = make_stack(tmp_path, own_redis, smtp)
        try:
            stack.start("web")
            stack.start("worker")
            stack.start("beat")
            stack.wait_healthy()
            assert submit(PatientBrowser(stack.base_url), 1)[0] == 302

            wait_until(lambda: smtp.handler.started >= 1, timeout=30, what="the worker to start sending")
            stack.kill("worker", signal.SIGKILL)
            killed = time.perf_counter()
            # The client hung up before the server's reply: no message was accepted.
            time.sleep(smtp.handler.delay_seconds + 1)
            assert smtp.messages == []
            assert statuses(stack) == {"pending": 1}, "the killed attempt's transaction rolled back"

            smtp.handler.delay_seconds = 0
            stack.start("worker")
            wait_until(lambda: smtp.messages, timeout=60, what=f"re-delivery\n{stack.log('worker')[-3000:]}")
            delivered_after = time.perf_counter() - killed
            # The killed worker's message waits in Redis for the visibility timeout (2 h); what delivered it is
            # the beat job re-queueing the row once it was overdue (docs/RELIABILITY.md, guarantee 6).
            assert "re-queued 1 stale notification(s)" in stack.log("worker")
            time.sleep(5)
            ids = message_ids(smtp)
            assert list(ids.values()) == [1]
            assert statuses(stack) == {"sent": 1}
            record(
                "worker_sigkill_mid_send",
                {"delivered_after_kill_s": round(delivered_after, 1), "messages": 1, "duplicates": 0},
            )
        finally:
            stack.stop()


def test_smtp_failing_at_first_is_retried_and_attempts_are_recorded(tmp_path, own_redis):
    with SmtpServer(fail_first=2) as smtp:
        stack = make_stack(tmp_path, own_redis, smtp)
        try:
            stack.start("web")
            stack.start("worker")
            stack.wait_healthy()
            started = time.perf_counter()
            assert submit(PatientBrowser(stack.base_url), 1)[0] == 302
            wait_until(lambda: smtp.messages, timeout=90, what=f"delivery after retries\n{stack.log('worker')[-3000:]}")
            delivered_after = time.perf_counter() - started
            ((status, attempts, last_error),) = stack.query(
                "SELECT status, attempts, last_error FROM callbacks_notification"
            )
            assert (status, attempts) == ("sent", 3)
            assert "451" in last_error, "the error of the last failed attempt stays visible"
            assert smtp.handler.attempts == 3
            assert len(smtp.messages) == 1
            record("smtp_fails_twice", {"attempts": attempts, "delivered_after_s": round(delivered_after, 1)})
        finally:
            stack.stop()


def test_smtp_always_failing_is_marked_failed_and_can_be_resent(tmp_path, own_redis):
    with SmtpServer(fail_first=10**6) as smtp:
        stack = make_stack(tmp_path, own_redis, smtp, NOTIFICATION_MAX_ATTEMPTS="3")
        try:
            stack.start("web")
            stack.start("worker")
            stack.wait_healthy()
            assert submit(PatientBrowser(stack.base_url), 1)[0] == 302
            wait_until(lambda: statuses(stack) == {"failed": 1}, timeout=90, what="the notification to be failed")
            ((notification_id, attempts, last_error),) = stack.query(
                "SELECT id, attempts, last_error FROM callbacks_notification"
            )
            assert attempts == 3
            assert "451" in last_error
            assert smtp.messages == []

            # Staff re-send it (the admin action calls this same service) once the mail server is fixed.
            smtp.handler.fail_first = 0
            resend = subprocess.run(
                [
                    sys.executable,
                    "manage.py",
                    "shell",
                    "--no-imports",
                    "-c",
                    "from callbacks.models import Notification;"
                    "from callbacks.notifications.outbox import notification_resend;"
                    f"print(notification_resend(notification=Notification.objects.get(pk={notification_id})))",
                ],
                cwd=ROOT,
                env=stack.env,
                capture_output=True,
                text=True,
                check=False,
            )
            assert resend.stdout.strip() == "True", resend.stderr
            wait_until(lambda: smtp.messages, timeout=30, what="the re-sent e-mail")
            assert statuses(stack) == {"sent": 1}
            assert len(smtp.messages) == 1
        finally:
            stack.stop()


def test_a_duplicate_message_for_a_sent_row_sends_nothing(tmp_path, own_redis):
    """A late or redelivered task message finds the row sent and does nothing."""
    with SmtpServer() as smtp:
        stack = make_stack(tmp_path, own_redis, smtp)
        try:
            stack.start("web")
            stack.start("worker")
            stack.wait_healthy()
            assert submit(PatientBrowser(stack.base_url), 1)[0] == 302
            wait_until(lambda: smtp.messages, timeout=30, what="the first e-mail")
            ((notification_id,),) = stack.query("SELECT id FROM callbacks_notification")
            publish = subprocess.run(
                [
                    sys.executable,
                    "manage.py",
                    "shell",
                    "--no-imports",
                    "-c",
                    "from callbacks.tasks import notification_send_task as t;"
                    f"[t.apply_async(args=[{notification_id}]) for _ in range(5)]",
                ],
                cwd=ROOT,
                env=stack.env,
                capture_output=True,
                text=True,
                check=False,
            )
            assert publish.returncode == 0, publish.stderr
            wait_until(
                lambda: stack.log("worker").count("succeeded") >= 6, timeout=30, what="the duplicates to be consumed"
            )
            assert len(smtp.messages) == 1
        finally:
            stack.stop()


def test_a_long_outage_beat_stays_quiet_the_worker_gives_up_and_a_restarted_one_delivers(tmp_path, own_redis):
    """Redis stays down longer than the worker's reconnect attempts (2 here, 100 by default): the worker logs
    each attempt, then exits with status 1 (Docker's restart policy starts it again); beat keeps running and logs
    one line per task it could not send; once Redis is back, a new worker delivers what was saved meanwhile."""
    with SmtpServer() as smtp:
        stack = make_stack(tmp_path, own_redis, smtp, CELERY_BROKER_CONNECTION_MAX_RETRIES="2")
        try:
            stack.start("web")
            worker = stack.start("worker")
            beat = stack.start("beat")
            stack.wait_healthy()
            # Running, not just started: the worker has taken a beat job off Redis and finished it (stopped in
            # the instant after "ready", Redis can catch the worker still connecting, which exits differently).
            wait_until(
                lambda: "outbox_requeue_stale" in stack.log("worker") and "succeeded" in stack.log("worker"),
                timeout=60,
                what=f"the worker to run a beat job\n{stack.log('worker')}",
            )
            beat_log_before = len(stack.log("beat"))

            own_redis.stop()
            down = time.perf_counter()
            assert submit(PatientBrowser(stack.base_url), 1)[0] == 302
            wait_until(
                lambda: worker.poll() is not None, timeout=90, what=f"the worker to give up\n{stack.log('worker')}"
            )
            gave_up_after = time.perf_counter() - down
            assert worker.returncode == 1
            worker_log = stack.log("worker")
            assert "Trying again in 2.00 seconds... (1/2)" in worker_log
            assert "Trying again in 4.00 seconds... (2/2)" in worker_log
            assert "Unrecoverable error: OperationalError" in worker_log
            assert "worker_cancel_long_running_tasks_on_connection_loss" not in worker_log, "chosen, not reminded"
            time.sleep(3)  # a few more beat ticks with Redis down

            assert beat.poll() is None, "beat keeps running through the outage"
            outage_log = stack.log("beat")[beat_log_before:]
            failed_sends = [line for line in outage_log.splitlines() if "a due task was not sent" in line]
            assert len(failed_sends) >= 5
            assert all("Couldn't apply scheduled task outbox-requeue-" in line for line in failed_sends), (
                "the two lanes' re-queue jobs"
            )
            other_lines = [
                line
                for line in outage_log.splitlines()
                if line and line not in failed_sends and "Sending due" not in line
            ]
            assert other_lines == [], "one line per failed send, nothing else"
            assert statuses(stack) == {"pending": 1}

            own_redis.start()
            back = time.perf_counter()
            del stack.processes["worker"]  # exited; the restart policy would start a new one
            stack.start("worker")
            wait_until(lambda: smtp.messages, timeout=60, what=f"the e-mail\n{stack.log('worker')[-3000:]}")
            delivered_after = time.perf_counter() - back
            time.sleep(3)
            assert list(message_ids(smtp).values()) == [1]
            assert statuses(stack) == {"sent": 1}
            record(
                "long_outage",
                {
                    "worker_max_retries": 2,
                    "worker_exit_status": worker.returncode,
                    "worker_gave_up_after_s": round(gave_up_after, 1),
                    "beat_failed_sends_logged": len(failed_sends),
                    "beat_log_bytes_per_failed_send": round(len(outage_log.encode()) / len(failed_sends)),
                    "delivered_after_redis_back_s": round(delivered_after, 1),
                },
            )
        finally:
            stack.stop()


def test_an_emergency_is_not_queued_behind_a_routine_backlog(tmp_path, own_redis):
    """The priority lanes (callbacks/notifications/lanes.py): 300 routine e-mails queued on a mail server that
    takes 200 ms a message (30 s of work for the two routine processes); an emergency request sent meanwhile
    reaches staff while most of that backlog still waits. bench/lanes.py measures it with 2,000."""
    with SmtpServer(delay_seconds=0.2) as smtp:
        stack = make_stack(tmp_path, own_redis, smtp)
        try:
            stack.start("web")
            stack.wait_healthy()
            figures = emergency_behind_backlog(stack, smtp, backlog=300)
            # Not a timing target (machines are noisy): the order. Behind the backlog it would wait ~30 s.
            assert figures["routine_still_pending_then"] > 150, (figures, stack.log("worker-urgent")[-3000:])
            urgent_log = stack.log("worker-urgent")
            # The urgent worker received the emergency's staff e-mail and none of the backlog.
            assert urgent_log.count("Task callbacks.tasks.notification_send[") == 2, urgent_log[
                -3000:
            ]  # received, done
            assert "succeeded" in urgent_log
            assert "Traceback" not in urgent_log + stack.log("worker") + stack.log("web")
            record("emergency_behind_routine_backlog", {k: v for k, v in figures.items() if k != "reference"})
        finally:
            stack.stop()
