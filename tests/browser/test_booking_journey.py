"""A patient books an assessment in a real free slot, in a real browser, at phone and desktop widths."""

import datetime as dt

import pytest
from django.urls import reverse

from callbacks.booking.slots import slot_key_parse
from callbacks.models import Appointment, Practitioner, Service, WorkingHours
from tests.browser.test_callback_journey import answer_step, check_page
from tests.browser.tools import DESKTOP_WIDTH, PHONE_WIDTH, screenshot
from tests.callbacks.booking.test_booking import appointment_row
from tests.callbacks.web.test_forms import form_data
from tests.support.questionnaire import SCREENING_STEPS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clinic_diary():
    service = Service.objects.create(name="Initial assessment", duration_minutes=45)
    practitioner = Practitioner.objects.create(name="Sam Physio")
    practitioner.services.add(service)
    for weekday in range(7):
        WorkingHours.objects.create(practitioner=practitioner, weekday=weekday, start=dt.time(9), end=dt.time(17))
    return service


@pytest.mark.parametrize(
    ("width", "javascript"),
    [(PHONE_WIDTH, True), (DESKTOP_WIDTH, True), (PHONE_WIDTH, False)],
    ids=["360", "1280", "no-js"],
)
def test_a_patient_books_a_free_slot(open_page, clinic_diary, queued_notifications, width, javascript):
    page = open_page(width, javascript=javascript)
    page.goto(reverse("callbacks:booking_services"))
    shot = check_page if javascript else screenshot  # axe itself needs JavaScript
    shot(page, "booking-1-services" + ("" if javascript else "-no-js"), width)
    page.get_by_role("link", name="Initial assessment").first.click()
    page.wait_for_url("**" + reverse("callbacks:booking_slots", kwargs={"service": clinic_diary.pk}))
    if javascript:
        check_page(page, "booking-2-free-days", width)
    page.locator("a.booking-date").nth(1).click()  # tomorrow: today may have no time left
    if javascript:
        check_page(page, "booking-2-free-times", width)

    page.locator("button.booking-slot").first.click()
    assert "Book an appointment · part 1 of 3" in page.content()
    for step in SCREENING_STEPS:
        answer_step(page, step)
    if javascript:
        check_page(page, "booking-3-details", width)
    data = form_data()
    page.get_by_label("Your name").fill(data["name"])
    page.get_by_label("Phone number").fill(data["phone"])
    page.locator('[name="reason"]').fill(data["reason"])
    page.locator('[name="consent"]').check()
    page.get_by_role("button", name="Book this appointment").click()
    page.wait_for_url("**" + reverse("callbacks:booking_done"))
    shot(page, "booking-4-requested" + ("" if javascript else "-no-js"), width)

    appointment = Appointment.objects.get()
    assert appointment.status == Appointment.Status.REQUESTED
    assert appointment.request.reference in page.content()
    assert page.locator("#prepare-start").is_visible(), "the rest of the questions follow the booking"
    # Issue 24: the patient reads plainly that it is not confirmed yet, and by when it should be.
    assert page.locator("#appointment-status").inner_text() == "Waiting for the clinic to confirm"
    assert page.locator("#confirm-by").is_visible()
    assert "prepare for your appointment" in page.locator("#prepare-heading").inner_text()
    assert " held " not in page.locator("main").inner_text()

    # Issue 24: Back (twice) and refresh after booking show the booking and its reference, never "start again" or
    # the callback form, and book nothing more.
    for _ in range(2):
        page.go_back()
        page.wait_for_load_state()
        page.reload()
        page.wait_for_load_state()
        shown = page.locator("main").inner_text()
        assert appointment.request.reference in shown and "Please start again" not in shown, page.url
        assert page.locator("#appointment-status").is_visible(), page.url
    assert Appointment.objects.count() == 1


def test_a_slot_taken_meanwhile_gets_the_nearest_free_times_page(open_page, clinic_diary, queued_notifications):
    page = open_page(PHONE_WIDTH)
    page.goto(reverse("callbacks:booking_slots", kwargs={"service": clinic_diary.pk}))
    page.locator("a.booking-date").nth(1).click()
    chosen = page.locator("button.booking-slot").first
    practitioner_id, start = slot_key_parse(chosen.get_attribute("value"))
    chosen.click()
    for step in SCREENING_STEPS:
        answer_step(page, step)
    # Someone else books the same time while this patient types their details.
    appointment_row(Practitioner.objects.get(pk=practitioner_id), clinic_diary, start).save()
    data = form_data()
    page.get_by_label("Your name").fill(data["name"])
    page.get_by_label("Phone number").fill(data["phone"])
    page.locator('[name="reason"]').fill(data["reason"])
    page.locator('[name="consent"]').check()
    page.get_by_role("button", name="Book this appointment").click()
    page.wait_for_load_state()
    assert "just taken" in page.content().lower()
    assert page.locator("button.booking-slot").count() > 0, "the nearest free times are offered"
    check_page(page, "booking-slot-taken", PHONE_WIDTH)
    assert Appointment.objects.count() == 1
