"""Issue 26, items 4, 6 and 7 in a real browser at 1280 px and 360 px, axe on every page: a course of care
planned, chosen and booked, then the rest cancelled; the queue for callers (phone to tap, window, kind, calls,
"not yet called", "being called by"); an unscreened booking's badge and its safety questions asked from its
page."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from callbacks.models import Appointment, CallAttempt, CallbackRequest, CourseOfCare
from callbacks.requests import workflow
from tests.browser.test_front_desk import clinic_day, no_axe_violations, sign_in, triage_staff_group  # noqa: F401
from tests.browser.tools import DESKTOP_WIDTH, PHONE_WIDTH, screenshot
from tests.factories import CallbackRequestFactory, UserFactory
from tests.support.questionnaire import NO_RED_FLAGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def next_monday() -> dt.date:
    day = timezone.localdate() + dt.timedelta(days=3)
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


def fits(page, locator, width):
    box = locator.bounding_box()
    return box["x"] >= 0 and box["x"] + box["width"] <= width


@pytest.mark.parametrize("width", [DESKTOP_WIDTH, PHONE_WIDTH])
def test_a_course_of_care_is_planned_chosen_booked_and_its_rest_cancelled(open_page, settings, clinic_day, width):  # noqa: F811
    service, practitioner, _, _ = clinic_day
    monday = next_monday()
    page, _ = sign_in(open_page, settings, width)
    page.goto(reverse("admin:callbacks_appointment_changelist"))
    page.get_by_role("link", name="Book a course of care").click()
    page.wait_for_load_state()
    no_axe_violations(page, f"course page at {width}")

    # Plan: six weekly sessions at 11:00, from a Monday.
    page.locator("#id_service").select_option(label=service.name)
    page.locator("#id_practitioner").select_option(label=practitioner.name)
    page.locator("#id_day").fill(monday.isoformat())
    page.locator("#id_time").fill("11:00")
    page.locator("#id_cadence").select_option(label="Weekly")
    page.locator("#id_sessions").fill("6")
    page.get_by_role("button", name="Show the sessions").click()
    page.wait_for_load_state()
    boxes = page.locator('input[name="chosen"]')
    assert boxes.count() == 6
    assert "6 of 6 can be booked" in page.locator("#content").inner_text()
    no_axe_violations(page, f"course plan at {width}")
    if width == PHONE_WIDTH:
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH, "no sideways scrolling"
    screenshot(page, "course-1-plan", width)

    # The caller wants four: untick the last two; forget the consent first.
    boxes.nth(4).uncheck()
    boxes.nth(5).uncheck()
    page.get_by_label("Caller's name").fill("Casey Course")
    page.get_by_label("Caller's phone number").fill("07400 555 666")
    page.get_by_label("What the appointment is about").fill("Sciatica after lifting.")
    page.get_by_role("button", name="Book the sessions ticked").click()
    page.wait_for_load_state()
    summary = page.locator("#error-summary")
    assert summary.is_visible()
    assert page.evaluate("document.activeElement.id") == "error-summary", "the summary takes the focus"
    assert summary.bounding_box()["y"] < 900, "the problem is seen without scrolling"
    assert "Book only once the caller has agreed" in summary.inner_text()
    assert not CourseOfCare.objects.exists()
    no_axe_violations(page, f"course refused at {width}")
    screenshot(page, "course-2-refused", width)
    assert page.locator('input[name="chosen"]:checked').count() == 4, "the choice is kept"

    page.get_by_label("I read this to the caller and they agreed, by phone").check()
    page.get_by_role("button", name="Book the sessions ticked").click()
    page.wait_for_url(re.compile(r"/callbackrequest/\d+/change/"))
    course = CourseOfCare.objects.get()
    assert course.appointments.count() == 4
    content = page.locator("#content").inner_text()
    assert "Course of care: session 1 of 4 (weekly)" in content
    assert "Not screened" in content
    no_axe_violations(page, f"first session's request at {width}")
    screenshot(page, "course-3-request", width)

    page.get_by_role("link", name="Cancel the rest of the course (4)").click()
    page.wait_for_load_state()
    no_axe_violations(page, f"cancel the rest at {width}")
    page.get_by_label("Why is it cancelled?").fill("Practitioner leaving")
    page.get_by_role("button", name="Cancel these 4 session(s)").click()
    page.wait_for_url(re.compile(r"/callbackrequest/\d+/change/"))
    assert "Cancelled 4 session(s) of the course" in page.locator(".messagelist").inner_text()
    assert set(course.appointments.values_list("status", flat=True)) == {Appointment.Status.CANCELLED}


@pytest.mark.parametrize("width", [DESKTOP_WIDTH, PHONE_WIDTH])
def test_the_queue_for_callers_and_an_unscreened_request(open_page, settings, clinic_day, width):  # noqa: F811
    _, _, _, patient_booking = clinic_day  # booked without the safety questions
    kim = UserFactory(username="kim", first_name="Kim", last_name="Caller")
    kim.groups.add(triage_staff_group())
    rung = CallbackRequestFactory(reference="CB-RUNG1", phone="+447400900111")
    CallbackRequestFactory(reference="CB-NEW01", phone="+447400900222")
    workflow.call_attempt_log(request=rung, actor=kim, outcome=CallAttempt.Outcome.NO_ANSWER)
    page, _ = sign_in(open_page, settings, width)
    page.goto(reverse("admin:callbacks_callbackrequest_changelist"))
    phone = page.locator('#result_list a[href="tel:+447400900222"]')
    assert phone.inner_text() == "+44 7400 900222"
    if width == PHONE_WIDTH:
        box = phone.bounding_box()
        assert box["height"] >= 44 and fits(page, phone, PHONE_WIDTH), "a large target to tap and call"
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH + 1
    rows = page.locator("#result_list tbody tr")
    rung_row = rows.filter(has_text="CB-RUNG1")
    assert "1 logged" in rung_row.inner_text()
    assert "Being called by Kim Caller" in rung_row.inner_text()
    assert "Not yet called" in rows.filter(has_text="CB-NEW01").inner_text()
    booking_row = rows.filter(has_text=patient_booking.request.reference)
    assert "Booking" in booking_row.inner_text() and "Not screened" in booking_row.inner_text()
    assert "Callback" in rung_row.inner_text()
    if width == DESKTOP_WIDTH:
        results = page.locator("#changelist .results")
        overflow = page.evaluate("(el) => el.scrollWidth - el.clientWidth", results.element_handle())
        assert overflow <= 0, f"every column is seen without scrolling sideways ({overflow} px more)"
    no_axe_violations(page, f"queue at {width}")
    screenshot(page, "callers-1-queue", width)

    page.goto(reverse("admin:callbacks_callbackrequest_changelist") + "?called=no")
    listed = page.locator("#result_list tbody tr").all_inner_texts()
    assert not any("CB-RUNG1" in row for row in listed) and any("CB-NEW01" in row for row in listed)

    # The unscreened booking's page asks for the questions; empty, it says what is missing, at the top.
    page.goto(reverse("admin:callbacks_callbackrequest_change", args=[patient_booking.request_id]))
    assert "Not screened: the safety questions were not asked" in page.locator("#content").inner_text()
    page.get_by_role("link", name="Ask the safety questions now").click()
    page.wait_for_load_state()
    no_axe_violations(page, f"safety questions at {width}")
    page.get_by_role("button", name="Save the answers").click()
    page.wait_for_load_state()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    no_axe_violations(page, f"safety questions refused at {width}")
    screenshot(page, "callers-2-questions-refused", width)
    answers = {**NO_RED_FLAGS["safety"], **NO_RED_FLAGS["health"]}
    for key, value in answers.items():
        if key == "age":
            page.locator("#id_q_age").fill(value)
        else:
            page.locator(f'input[name="q_{key}"][value="{value}"]').check()
    page.get_by_role("button", name="Save the answers").click()
    page.wait_for_url(re.compile(r"/callbackrequest/\d+/change/"))
    assert "Safety questions recorded" in page.locator(".messagelist").inner_text()
    assert "the safety questions were not asked" not in page.locator("#content").inner_text()
    assert CallbackRequest.objects.get(pk=patient_booking.request_id).questionnaire_response_id is not None
    screenshot(page, "callers-3-screened", width)
