"""Attendance, its figures and "Send a follow-up now" in a real browser, at 1280 px and 360 px (issue 26, items 3,
9 and 10): a member of the Triage staff marks a visit attended in one click from the diary and a no-show from the
request's page, sends a patient's next follow-up now, and reads the figures on the admin home and in the outcome
report. Axe checks every page."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from callbacks.models import Appointment, CallbackRequest, FollowUp, Practitioner, Service, WorkingHours
from clinic.hours import clinic_zone
from tests.browser.test_front_desk import no_axe_violations, sign_in
from tests.browser.tools import DESKTOP_WIDTH, PHONE_WIDTH, screenshot
from tests.factories import AppointmentFactory, CallbackRequestFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seen_today():
    """Two visits that started an hour ago, and six earlier visits marked (one did not attend) for the figures."""
    service = Service.objects.create(name="Initial assessment", duration_minutes=45)
    practitioner = Practitioner.objects.create(name="Sam Physio")
    practitioner.services.add(service)
    for weekday in range(7):
        WorkingHours.objects.create(practitioner=practitioner, weekday=weekday, start=dt.time(0), end=dt.time(23, 45))
    started = timezone.now() - dt.timedelta(hours=1)
    first = AppointmentFactory(
        service=service,
        practitioner=practitioner,
        starts_at=started,
        request__name="Ada Visit",
        request__email="ada@example.test",
    )
    second = AppointmentFactory(
        service=service, practitioner=Practitioner.objects.create(name="Kim Physio"), starts_at=started
    )
    for days in range(1, 7):
        AppointmentFactory(
            service=service,
            practitioner=practitioner,
            starts_at=started - dt.timedelta(days=days),
            attendance="dna" if days == 1 else "attended",
        )
    return first, second


def diary_url(appointment):
    day = timezone.localtime(appointment.starts_at, clinic_zone()).date()
    return reverse("admin:callbacks_appointment_diary") + f"?view=day&day={day.isoformat()}"


@pytest.mark.parametrize("width", [DESKTOP_WIDTH, PHONE_WIDTH])
def test_attendance_in_one_click_and_its_figures(open_page, settings, seen_today, width):
    settings.CLINIC_FOLLOW_UP_WEEKS = (2, 6)
    first, second = seen_today
    page, staff = sign_in(open_page, settings, width)
    staff.user_permissions.add(Permission.objects.get(codename="view_outcome_report"))

    # The admin home: the last four weeks' figures, readable at this width.
    page.reload()
    figures = page.locator(".triage-attendance")
    assert "Did not attend, by service" in figures.inner_text()
    assert "16.7%" in figures.inner_text()  # 1 of 6 marked visits
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, "attendance-1-home", width)
    no_axe_violations(page, "admin home with attendance")

    # The diary: "Attended" in one click; the page comes back to the diary with the mark and who made it.
    page.goto(diary_url(first))
    reference = first.request.reference
    page.get_by_role("button", name=f"Mark {reference} attended").click()
    assert f"{reference} marked “Attended”." in page.locator(".messagelist").inner_text()
    item = page.locator(".desk-item", has_text=reference)
    assert "Attended" in item.locator(".desk-attendance__mark").inner_text()
    assert "Fran Desk" in item.locator(".desk-attendance__mark").inner_text()
    screenshot(page, "attendance-2-diary", width)
    no_axe_violations(page, "diary with attendance")
    assert list(FollowUp.objects.filter(request=first.request).values_list("weeks", flat=True)) == [2, 6]

    # The request's page: "Did not attend" puts the request back in the queue for a call.
    page.goto(reverse("admin:callbacks_callbackrequest_change", args=[second.request_id]))
    page.get_by_role("button", name=f"Mark {second.request.reference} did not attend").click()
    assert "back in the queue for a call" in page.locator(".messagelist").inner_text()
    assert "Did not attend" in page.locator("#appointment").inner_text()
    screenshot(page, "attendance-3-request", width)
    no_axe_violations(page, "request page after did not attend")
    second.request.refresh_from_db()
    assert second.request.status == CallbackRequest.Status.IN_PROGRESS

    # Send a follow-up now, from the request of the visit just marked attended.
    page.goto(reverse("admin:callbacks_callbackrequest_change", args=[first.request_id]))
    page.get_by_role("button", name="Send a follow-up now").click()
    assert "The 2-week follow-up is on its way to the patient" in page.locator(".messagelist").inner_text()
    screenshot(page, "attendance-4-follow-up-now", width)
    no_axe_violations(page, "request page after send now")
    assert FollowUp.objects.get(request=first.request, weeks=2).status == FollowUp.Status.SENT

    # The outcome report carries the same figures for its period.
    page.goto(reverse("admin:callbacks_callbackrequest_outcome_report"))
    assert "Days waited" in page.locator(".triage-attendance").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, "attendance-5-report", width)
    no_axe_violations(page, "outcome report with attendance")


def test_a_visit_not_yet_started_offers_only_what_it_can_take(open_page, settings):
    service = Service.objects.create(name="Initial assessment", duration_minutes=45)
    practitioner = Practitioner.objects.create(name="Sam Physio")
    later = AppointmentFactory(
        service=service, practitioner=practitioner, starts_at=timezone.now() + dt.timedelta(days=3)
    )
    page, _ = sign_in(open_page, settings, PHONE_WIDTH)
    page.goto(reverse("admin:callbacks_callbackrequest_change", args=[later.request_id]))
    panel = page.locator("#appointment")
    assert panel.get_by_role("button", name=f"Mark {later.request.reference} attended").count() == 0
    assert panel.get_by_role("button", name=f"Mark {later.request.reference} cancelled late").count() == 0
    assert Appointment.objects.get(pk=later.pk).attendance == ""
    CallbackRequestFactory()  # the queue has someone else too: nothing here touches it
