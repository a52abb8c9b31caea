"""One patient across many requests, and booking from a request, in a real browser at 1280 px and 360 px: the
request page offers a phone-only match ("Link" / "Not the same person"), the patient's page lists their requests
and appointments, "Book an appointment" books onto the request itself, and "Book for a caller" stops on a known
phone number. Axe checks every page."""

import datetime as dt
import importlib
import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from callbacks.models import Appointment, CallbackRequest
from callbacks.requests.consent import CURRENT_CONSENT_VERSION
from callbacks.requests.services import callback_request_create
from tests.browser.test_front_desk import clinic_day, no_axe_violations, sign_in, triage_staff_group
from tests.browser.tools import DESKTOP_WIDTH, PHONE_WIDTH, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["clinic_day"]  # the fixture, shared with the front desk's own tests


def patient_grants():
    """The Triage staff's patient permissions, as migration 0027 grants them (a transactional flush drops them)."""
    codenames = importlib.import_module("callbacks.migrations.0027_patients").GRANTS["Triage staff"]
    triage_staff_group().permissions.add(
        *Permission.objects.filter(content_type__app_label="callbacks", codename__in=codenames)
    )


def callback(name: str, phone: str = "+447400123456") -> CallbackRequest:
    start = timezone.now() + dt.timedelta(days=5)
    return callback_request_create(
        name=name,
        phone=phone,
        email="jane@example.test",
        window_start=start,
        window_end=start + dt.timedelta(hours=2),
        reason="Back pain after lifting the shopping.",
        consent_version=CURRENT_CONSENT_VERSION,
    )


@pytest.mark.parametrize("width", [DESKTOP_WIDTH, PHONE_WIDTH])
def test_staff_link_a_phone_only_match_and_read_the_patient_together(open_page, settings, width):
    first = callback("Jane Smith")
    other = callback("J. Smith")
    page, _ = sign_in(open_page, settings, width)
    patient_grants()
    page.goto(reverse("admin:callbacks_callbackrequest_change", args=[other.pk]))
    offer = page.locator(".patient-offer")
    assert f"Same phone number: patient {first.patient_record.number}, Jane Smith" in offer.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "no sideways scrolling"
    screenshot(page, "patient-1-offer", width)
    no_axe_violations(page, "request page with a patient offered")
    page.get_by_role("button", name=f"Link this request to patient {first.patient_record.number}").click()
    page.wait_for_load_state()
    assert (
        f"{other.reference} is now linked to patient {first.patient_record.number}"
        in page.locator(".messagelist").inner_text()
    )
    other.refresh_from_db()
    assert other.patient_record_id == first.patient_record_id
    assert page.locator(".patient-offer").count() == 0

    page.get_by_role("link", name=f"Patient {first.patient_record.number}").click()
    page.wait_for_load_state()
    content = page.locator("#content").inner_text()
    assert first.reference in content and other.reference in content and "requests (2)" in content.lower()
    assert "Linked by staff" in content
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "no sideways scrolling"
    screenshot(page, "patient-2-page", width)
    no_axe_violations(page, "patient page")

    page.goto(reverse("admin:callbacks_patient_changelist") + "?q=07400+123456")
    assert first.patient_record.number in page.locator("#result_list").inner_text()
    no_axe_violations(page, "patients list")


@pytest.mark.parametrize("width", [DESKTOP_WIDTH, PHONE_WIDTH])
def test_book_an_appointment_from_the_request_itself(open_page, settings, clinic_day, width):
    _, _, day, _ = clinic_day
    request = callback("Jane Smith", phone="+447400555666")
    page, _ = sign_in(open_page, settings, width)
    page.goto(reverse("admin:callbacks_callbackrequest_change", args=[request.pk]))
    page.get_by_role("link", name="Book an appointment").click()
    page.wait_for_load_state()
    page.locator("#id_service").select_option(label="Initial assessment")
    page.locator("#id_day").fill(day.isoformat())
    page.get_by_role("button", name="Show free times").click()
    page.wait_for_load_state()
    assert f"Booking for request {request.reference}, Jane Smith" in page.locator(".desk-for-request").inner_text()
    assert page.get_by_label("Caller's name").input_value() == "Jane Smith"
    assert page.get_by_label("Caller's name").is_disabled()
    assert page.get_by_label("Caller's phone number").input_value() == "+447400555666"
    assert "Back pain after lifting" in page.get_by_label("What the appointment is about").input_value()
    assert page.get_by_label("I read this to the caller and they agreed, by phone").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "no sideways scrolling"
    screenshot(page, "patient-3-book-from-request", width)
    no_axe_violations(page, "book from a request")
    page.locator('input[name="slot"]').first.check()
    page.get_by_role("button", name="Book this appointment").click()
    page.wait_for_url(re.compile(rf"/callbackrequest/{request.pk}/change/"))
    assert f"Booked {request.reference} (confirmed)" in page.locator(".messagelist").inner_text()
    assert CallbackRequest.objects.count() == 2  # the request and the clinic_day's patient booking, nothing new
    request.refresh_from_db()
    assert request.appointment.status == Appointment.Status.CONFIRMED
    assert request.status == CallbackRequest.Status.BOOKED
    screenshot(page, "patient-4-request-booked", width)


@pytest.mark.parametrize("width", [DESKTOP_WIDTH, PHONE_WIDTH])
def test_book_for_a_caller_stops_on_a_known_phone_number(open_page, settings, clinic_day, width):
    _, _, day, _ = clinic_day
    known = callback("Jane Smith", phone="+447400777888")
    page, _ = sign_in(open_page, settings, width)
    patient_grants()
    page.goto(reverse("admin:callbacks_appointment_book"))
    page.locator("#id_service").select_option(label="Initial assessment")
    page.locator("#id_day").fill(day.isoformat())
    page.get_by_role("button", name="Show free times").click()
    page.wait_for_load_state()
    page.locator('input[name="slot"]').first.check()
    page.get_by_label("Caller's name").fill("Jane Smith")
    page.get_by_label("Caller's phone number").fill("07400 777 888")
    page.get_by_label("What the appointment is about").fill("Back again.")
    page.get_by_label("I read this to the caller and they agreed, by phone").check()
    page.get_by_role("button", name="Book this appointment").click()
    page.wait_for_load_state()
    warning = page.locator("#caller-matches")
    assert "this phone number is a patient we know: nothing is booked yet" in warning.inner_text().lower()
    book_for = page.get_by_role("link", name=f"Book for {known.reference}")
    # The warning is where staff are: its first choice has the focus, inside the screen.
    assert page.evaluate("document.activeElement.textContent") == f"Book for {known.reference}"
    box = book_for.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    assert (
        CallbackRequest.objects.count() == 2
        and not CallbackRequest.objects.filter(name="Jane Smith").exclude(pk=known.pk).exists()
    )
    screenshot(page, "patient-5-known-phone", width)
    no_axe_violations(page, "book for a caller, known phone")
    book_for.click()
    page.wait_for_load_state()
    assert f"Booking for request {known.reference}" in page.locator(".desk-for-request").inner_text()
    page.locator('input[name="slot"]').first.check()
    page.get_by_role("button", name="Book this appointment").click()
    page.wait_for_url(re.compile(rf"/callbackrequest/{known.pk}/change/"))
    known.refresh_from_db()
    assert known.appointment.status == Appointment.Status.CONFIRMED
