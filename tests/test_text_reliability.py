"""Fault tests of text messages (docs/RELIABILITY.md, "Text messages"): real gunicorn, Celery worker and beat
processes, a Redis of the test's own that can be stopped, the local PostgreSQL, a real SMTP server for the staff
e-mails, and the real Twilio SDK talking to a fake of Twilio's API on loopback (tests/support/fake_twilio.py).
Each patient chose texts, so each request writes one text (the confirmation) besides the staff e-mail.
"""

import signal
import statistics
import time
from collections import Counter

import pytest

from tests.callbacks.web.test_forms import form_data
from tests.support.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.support.net import wait_until
from tests.support.smtp import SmtpServer
from tests.support.stack import PatientBrowser, Stack
from tests.test_reliability import FAST_RECOVERY, record

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


def make_stack(tmp_path, own_redis, smtp, twilio, **extra_env):
    env = {
        **FAST_RECOVERY,
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_BASE_URL": twilio.url,
        "SMS_STATUS_CALLBACK_URL": "https://clinic.test/texts/status/",
        "SMS_TIMEOUT": "3",
        # The tests run at any hour: no text may wait for the morning.
        "CLINIC_TEXT_QUIET_HOURS": "",
        **extra_env,
    }
    stack = Stack(tmp_path, redis_url=own_redis.url, smtp_url=smtp.url, extra_env=env)
    stack.prepare()
    return stack


def submit(patient: PatientBrowser, n: int) -> tuple[int, float]:
    response = patient.request_callback(form_data(name=f"Text Patient {n}", phone=f"07400 1{n:05d}", texts="on"))
    return response.status_code, response.elapsed.total_seconds()


def text_statuses(stack) -> dict:
    return dict(
        stack.query("SELECT status, count(*) FROM callbacks_notification WHERE channel = 'sms' GROUP BY status")
    )


def texts_taken(twilio) -> Counter:
    """How many times Twilio took each text (keyed by recipient and body: each request's text is unique)."""
    return Counter((message["to"], message["body"]) for message in twilio.messages)


def start_all(stack):
    stack.start("web")
    stack.start("worker")
    stack.start("beat")
    stack.wait_healthy()


def test_redis_down_during_a_burst_loses_no_text_and_sends_none_twice(tmp_path, own_redis):
    with SmtpServer() as smtp, FakeTwilio() as twilio:
        stack = make_stack(tmp_path, own_redis, smtp, twilio)
        try:
            start_all(stack)
            own_redis.stop()
            patient = PatientBrowser(stack.base_url)
            results = [submit(patient, n) for n in range(30)]
            assert [code for code, _ in results] == [302] * 30
            assert text_statuses(stack) == {"pending": 30}

            own_redis.start()
            back = time.perf_counter()
            wait_until(lambda: len(twilio.messages) >= 30, timeout=120, what=f"30 texts\n{stack.log('worker')[-3000:]}")
            delivered_after = time.perf_counter() - back
            time.sleep(5)  # a text sent twice would arrive now
            taken = texts_taken(twilio)
            duplicates = sum(count - 1 for count in taken.values())
            assert len(taken) == 30 and duplicates == 0
            assert text_statuses(stack) == {"sent": 30}
            (unmatched,) = stack.query(
                "SELECT count(*) FROM callbacks_notification WHERE channel = 'sms' AND provider_message_id = ''"
            )
            assert unmatched == (0,)
            latencies = sorted(seconds for _, seconds in results)
            record(
                "texts_redis_down_burst",
                {
                    "requests": 30,
                    "texts": 30,
                    "post_latency_median_s": round(statistics.median(latencies), 3),
                    "all_texts_taken_after_redis_back_s": round(delivered_after, 1),
                    "lost": 0,
                    "duplicates": duplicates,
                },
            )
        finally:
            stack.stop()


def test_a_worker_killed_while_twilio_answers_the_text_goes_once(tmp_path, own_redis):
    with SmtpServer() as smtp, FakeTwilio(hang_next=1, hang_seconds=10) as twilio:
        stack = make_stack(tmp_path, own_redis, smtp, twilio, SMS_TIMEOUT="30")
        try:
            start_all(stack)
            assert submit(PatientBrowser(stack.base_url), 1)[0] == 302
            # Twilio has taken the text and holds its answer: the worker is mid-send.
            wait_until(lambda: twilio.messages, timeout=30, what=f"the text to reach Twilio\n{stack.log('worker')}")
            stack.kill("worker", signal.SIGKILL)
            killed = time.perf_counter()
            [(stamp,)] = stack.query("SELECT send_started_at FROM callbacks_notification WHERE channel = 'sms'")
            assert stamp is not None, "the attempt was on record before Twilio was called"
            assert text_statuses(stack) == {"pending": 1}

            stack.start("worker")
            wait_until(lambda: text_statuses(stack) == {"sent": 1}, timeout=60, what=stack.log("worker")[-3000:])
            recorded_after = time.perf_counter() - killed
            time.sleep(3)
            assert list(texts_taken(twilio).values()) == [1], "found at Twilio, not sent again"
            assert twilio.state.lists >= 1, "the new worker asked Twilio before sending"
            [(sid,)] = stack.query("SELECT provider_message_id FROM callbacks_notification WHERE channel = 'sms'")
            assert sid == twilio.messages[0]["sid"]
            record("texts_worker_sigkill_mid_send", {"recorded_after_kill_s": round(recorded_after, 1), "texts": 1})
        finally:
            stack.stop()


@pytest.mark.parametrize(
    ("fault", "fake_options"),
    [
        ("answers_500", {"fail_next": 2}),
        ("times_out_after_accepting", {"hang_next": 1, "hang_seconds": 6}),
    ],
)
def test_a_provider_fault_is_retried_and_the_text_goes_once(tmp_path, own_redis, fault, fake_options):
    with SmtpServer() as smtp, FakeTwilio(**fake_options) as twilio:
        stack = make_stack(tmp_path, own_redis, smtp, twilio)
        try:
            start_all(stack)
            started = time.perf_counter()
            assert submit(PatientBrowser(stack.base_url), 1)[0] == 302
            wait_until(lambda: text_statuses(stack) == {"sent": 1}, timeout=90, what=stack.log("worker")[-3000:])
            sent_after = time.perf_counter() - started
            time.sleep(3)
            assert list(texts_taken(twilio).values()) == [1]
            [(attempts, sid)] = stack.query(
                "SELECT attempts, provider_message_id FROM callbacks_notification WHERE channel = 'sms'"
            )
            assert sid == twilio.messages[0]["sid"]
            assert attempts == (3 if fault == "answers_500" else 2)
            record(
                f"texts_provider_{fault}",
                {
                    "attempts": attempts,
                    "texts_taken": 1,
                    "sent_after_s": round(sent_after, 1),
                    "creates": twilio.state.creates,
                },
            )
        finally:
            stack.stop()
