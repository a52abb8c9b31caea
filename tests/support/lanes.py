"""What the lane test (tests/test_reliability.py) and its benchmark (bench/lanes.py) share: a backlog of routine
notifications in a running stack's outbox and queue, an emergency request sent as a patient sends it, and the
time until its staff e-mail reached the mail server."""

import re
import sys
import time

from tests.callbacks.web.test_forms import form_data
from tests.support.net import wait_until
from tests.support.questionnaire import NO_RED_FLAGS, step_data
from tests.support.stack import PatientBrowser, Stack

# Run inside the stack's own settings (manage.py shell): routine requests' staff e-mails, written and published
# as the outbox does, to the routine lane's queue.
_BACKLOG = """
from callbacks.notifications.outbox import notifications_enqueue
from tests.factories import NotificationFactory
rows = NotificationFactory.create_batch({count}, recipient="frontdesk@clinic.test")
print(notifications_enqueue([row.pk for row in rows]))
"""


def routine_backlog(stack: Stack, count: int) -> None:
    done = stack.run_once([sys.executable, "manage.py", "shell", "-c", _BACKLOG.format(count=count)])
    assert done.returncode == 0 and done.stdout.strip().endswith(str(count)), done.stdout + done.stderr


def emergency_request(base_url: str) -> str:
    """A patient answers a safety question yes, reads the emergency advice, sends their details: the reference."""
    patient = PatientBrowser(base_url)
    answers = {**NO_RED_FLAGS["safety"], "bladder_bowel_control": "yes"}
    advice = patient.post_form("/request-a-callback/", step_data(answers))
    assert advice.status_code == 302 and "get-help-now" in advice.headers["Location"], advice.text[:2000]
    details = advice.headers["Location"].replace("get-help-now/", "your-details/")
    sent = patient.post_form(details, form_data(name="Lane Patient"))
    assert sent.status_code == 302, sent.text[:2000]
    done = patient.get(sent.headers["Location"])
    return re.search(r'id="reference"[^>]*>([^<]+)<', done.text).group(1).strip()


def staff_email_arrival(smtp, reference: str, *, timeout: float) -> float:
    """When (time.time()) the staff e-mail naming ``reference`` reached the mail server."""

    def arrived():
        return next((at for at, message in smtp.arrivals if reference in str(message["Subject"])), None)

    return wait_until(arrived, timeout=timeout, what=f"the staff e-mail of {reference}")


def pending_count(stack: Stack) -> int:
    return stack.query("SELECT count(*) FROM callbacks_notification WHERE status = 'pending'")[0][0]


def emergency_behind_backlog(stack: Stack, smtp, *, backlog: int, timeout: float = 120) -> dict:
    """With ``backlog`` routine e-mails queued and the workers busy on them, send an emergency request; returns
    the seconds until its staff e-mail arrived and how much of the backlog was still waiting then."""
    stack.start("worker")
    stack.start("worker-urgent")
    for name in ("worker", "worker-urgent"):
        # Published once the workers have declared their queues: each lane's messages must reach its queue only.
        wait_until(lambda name=name: " ready." in stack.log(name), timeout=60, what=f"{name} ready\n{stack.log(name)}")
    routine_backlog(stack, backlog)
    wait_until(lambda: len(smtp.messages) >= 4, timeout=60, what=f"the routine backlog to flow\n{stack.log('worker')}")
    sent_at = time.time()
    reference = emergency_request(stack.base_url)
    arrived_at = staff_email_arrival(smtp, reference, timeout=timeout)
    return {
        "backlog": backlog,
        "emergency_staff_email_s": round(arrived_at - sent_at, 2),
        "routine_still_pending_then": pending_count(stack),
        "reference": reference,
    }
