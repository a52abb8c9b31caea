"""A patient books an assessment in a real free slot, in a real browser, at phone and desktop widths."""

import datetime as dt

import pytest
from django.urls import reverse

from callbacks.models import Appointment, Practitioner, Service, WorkingHours
from tests.browser.test_callback_journey import answer_step, check_page
from tests.browser.tools import DESKTOP_WIDTH, PHONE_WIDTH
from tests.callbacks.test_forms import form_data
from tests.support.questionnaire import STEPS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clinic_diary():
    service = Service.objects.create(name="Initial assessment", duration_minutes=45)
    practitioner = Practitioner.objects.create(name="Sam Physio")
    practitioner.services.add(service)
    for weekday in range(7):
        WorkingHours.objects.create(practitioner=practitioner, weekday=weekday, start=dt.time(9), end=dt.time(17))
    return service


@pytest.mark.parametrize("width", [PHONE_WIDTH, DESKTOP_WIDTH])
def test_a_patient_books_a_free_slot(open_page, clinic_diary, queued_notifications, width):
    page = open_page(width)
    page.goto(reverse("callbacks:booking_services"))
    check_page(page, "booking-1-services", width)
    page.get_by_role("link", name="Initial assessment").first.click()
    page.wait_for_url("**" + reverse("callbacks:booking_slots", kwargs={"service": clinic_diary.pk}))
    check_page(page, "booking-2-free-times", width)

    page.locator("button.booking-slot").first.click()
    for step in STEPS:
        answer_step(page, step)
    check_page(page, "booking-3-details", width)
    data = form_data()
    page.get_by_label("Your name").fill(data["name"])
    page.get_by_label("Phone number").fill(data["phone"])
    page.locator('[name="reason"]').fill(data["reason"])
    page.locator('[name="consent"]').check()
    page.get_by_role("button", name="Book this appointment").click()
    page.wait_for_url("**" + reverse("callbacks:booking_done"))
    check_page(page, "booking-4-requested", width)

    appointment = Appointment.objects.get()
    assert appointment.status == Appointment.Status.REQUESTED
    assert appointment.request.reference in page.content()
