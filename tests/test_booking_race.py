"""Twenty patients press "Book" for the same slot at the same instant, against gunicorn on PostgreSQL.

Each patient is a separate HTTP session that chose the slot and answered the questionnaire beforehand; a
barrier releases the twenty final POSTs together. Exactly one booking may win; the database decides.
"""

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from tests.conftest import REDIS_HOST, REDIS_PORT
from tests.support.questionnaire import NO_RED_FLAGS, SCREENING_STEPS, step_data
from tests.support.smtp import SmtpServer
from tests.support.stack import PatientBrowser, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

RACE_REDIS_DB = 12
PATIENTS = 20


@pytest.fixture
def stack(tmp_path):
    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=RACE_REDIS_DB)
    client.flushdb()
    with SmtpServer() as smtp:
        running = Stack(
            tmp_path,
            redis_url=f"redis://{REDIS_HOST}:{REDIS_PORT}/{RACE_REDIS_DB}",
            smtp_url=smtp.url,
            # Threads on top of the compose file's three workers: more requests truly in flight at once.
            extra_env={"GUNICORN_CMD_ARGS": "--threads 8"},
        )
        running.prepare()
        try:
            yield running
        finally:
            running.stop()
            client.flushdb()


def clinic_with_one_practitioner(stack: Stack) -> int:
    """One service and one practitioner who works every day, written straight to the database."""
    ((service_id,),) = stack.query(
        "INSERT INTO callbacks_service (name, description, duration_minutes, active) "
        "VALUES ('Initial assessment', '', 45, true) RETURNING id"
    )
    ((practitioner_id,),) = stack.query(
        "INSERT INTO callbacks_practitioner (name, active) VALUES ('Sam Physio', true) RETURNING id"
    )
    stack.query(
        "INSERT INTO callbacks_practitioner_services (practitioner_id, service_id) VALUES (%s, %s) RETURNING id",
        (practitioner_id, service_id),
    )
    for weekday in range(7):
        stack.query(
            'INSERT INTO callbacks_workinghours (practitioner_id, weekday, start, "end") '
            "VALUES (%s, %s, '09:00', '17:00') RETURNING id",
            (practitioner_id, weekday),
        )
    return service_id


def csrf_token(page_text: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page_text).group(1)


def test_twenty_simultaneous_bookings_of_one_slot_give_exactly_one_appointment(stack):
    stack.start("web")
    stack.wait_healthy()
    service_id = clinic_with_one_practitioner(stack)
    slots_path = f"/book/{service_id}/"
    # A slot next week: well clear of the minimum notice while the test runs.
    days = PatientBrowser(stack.base_url).get(slots_path + "?week=1")
    assert days.status_code == 200, days.text[:2000]
    day = re.search(r'class="booking-date" href="\?day=([0-9-]+)"', days.text).group(1)
    page = PatientBrowser(stack.base_url).get(slots_path + f"?day={day}")
    assert page.status_code == 200, page.text[:2000]
    slot = re.search(r'name="slot" value="([^"]+)"', page.text).group(1)

    barrier = threading.Barrier(PATIENTS, timeout=300)

    def patient(number: int):
        browser = PatientBrowser(stack.base_url)
        response = browser.post_form(slots_path + f"?day={day}", {"slot": slot})  # the day's page has the form
        assert response.status_code == 302, response.text[:2000]
        path = response.headers["Location"]
        for step in SCREENING_STEPS:
            response = browser.post_form(path, step_data(NO_RED_FLAGS[step]))
            assert response.status_code == 302, f"step {step}: {response.status_code} {response.text[:1000]}"
            path = response.headers["Location"]
        assert "/your-details/" in path
        token = csrf_token(browser.get(path).text)
        contact = {
            "name": f"Patient {number}",
            "phone": f"07400 {100000 + number}",
            "email": f"patient{number}@example.com",
            "reason": "Back spasms.",
            "consent": "on",
            "csrfmiddlewaretoken": token,
        }
        barrier.wait()
        return browser.http.post(
            stack.base_url + path, data=contact, headers=browser._headers(path), allow_redirects=False, timeout=60
        )

    with ThreadPoolExecutor(max_workers=PATIENTS) as pool:
        responses = list(pool.map(patient, range(PATIENTS)))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [302] + [409] * (PATIENTS - 1), statuses
    (winner,) = [response for response in responses if response.status_code == 302]
    assert winner.headers["Location"] == "/book/confirmed/"
    for response in responses:
        if response.status_code == 409:
            assert "that time was just taken" in response.text.lower()
            assert 'name="slot"' in response.text  # the nearest free times, ready to choose
    assert stack.query("SELECT count(*) FROM callbacks_appointment") == [(1,)]
    # Nothing half-saved: the losers' requests were rolled back with their failed appointments.
    assert stack.query("SELECT count(*) FROM callbacks_callbackrequest") == [(1,)]
    # Each of the nineteen reached the INSERT and was refused by the database, not by a check in Python.
    assert stack.log("web").count("already held; booking refused") == PATIENTS - 1
    assert "Traceback" not in stack.log("web")
