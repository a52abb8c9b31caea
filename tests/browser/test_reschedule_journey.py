"""A patient moves their appointment from the link in their e-mail, and another joins the waitlist and takes a
freed slot, in a real browser at phone width (and desktop for the move), with axe on every page."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from callbacks.booking.links import appointment_reschedule_token, waitlist_offer_token
from callbacks.booking.services import appointment_cancel
from callbacks.booking.slots import slots_free
from callbacks.models import Appointment, Notification, Practitioner, WaitlistEntry, WaitlistOffer
from tests.browser.test_booking_journey import clinic_diary  # noqa: F401 - the fixture
from tests.browser.test_callback_journey import check_page
from tests.browser.tools import DESKTOP_WIDTH, PHONE_WIDTH, html_errors
from tests.callbacks.booking.test_booking import book

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [PHONE_WIDTH, DESKTOP_WIDTH], ids=["360", "1280"])
def test_a_patient_moves_their_appointment_by_the_emailed_link(open_page, clinic_diary, width):  # noqa: F811
    day = timezone.localdate() + dt.timedelta(days=2)
    first = slots_free(service=clinic_diary, first_day=day, days=1)[0]
    appointment = book(clinic_diary, Practitioner.objects.get(), first.starts_at)
    page = open_page(width)
    page.goto(reverse("callbacks:booking_reschedule", kwargs={"token": appointment_reschedule_token(appointment)}))
    check_page(page, "reschedule-1-choose", width)
    assert page.get_by_role("heading", name="Change your appointment").is_visible()

    page.locator(f'a.booking-date[href="?day={day}"]').click()  # the day, then a time on it
    check_page(page, "reschedule-1-choose-time", width)
    chosen = page.locator("button.booking-slot").nth(3)
    new_key = chosen.get_attribute("value")
    chosen.click()
    page.get_by_role("button", name="Yes, move my appointment").wait_for()
    check_page(page, "reschedule-2-confirm", width)
    appointment.refresh_from_db()
    assert appointment.starts_at == first.starts_at  # choosing a time changes nothing yet

    page.get_by_role("button", name="Yes, move my appointment").click()
    page.get_by_role("heading", name="Your appointment is moved").wait_for()
    check_page(page, "reschedule-3-moved", width)
    appointment.refresh_from_db()
    assert f"{appointment.practitioner_id}-{int(appointment.starts_at.timestamp())}" == new_key
    assert appointment.revision == 1
    assert Notification.objects.filter(kind=Notification.Kind.BOOKING_RESCHEDULED).count() == 1

    page.reload()  # the same link again: used
    assert page.get_by_role("heading", name="This link has been used").is_visible()
    check_page(page, "reschedule-4-used", width)


def test_a_patient_joins_the_waitlist_and_takes_a_freed_slot(open_page, clinic_diary):  # noqa: F811
    width = PHONE_WIDTH
    page = open_page(width)
    page.goto(reverse("callbacks:booking_slots", kwargs={"service": clinic_diary.pk}))
    page.get_by_role("link", name="Join the waitlist").click()
    check_page(page, "waitlist-1-join", width)
    page.get_by_label("Your name").fill("Robin Waiting")
    page.get_by_label("Phone number").fill("12")  # the browser lets it through; the server does not
    page.get_by_label("E-mail").fill("robin@example.com")
    page.locator('[name="consent"]').check()
    page.get_by_role("button", name="Join the waitlist").click()
    page.get_by_role("alert").first.wait_for()
    assert "Enter a phone number we can call" in page.content()
    check_page(page, "waitlist-2-join-with-errors", width)
    assert not WaitlistEntry.objects.exists()
    page.get_by_label("Phone number").fill("07400 123456")
    page.locator('[name="consent"]').check()
    page.get_by_role("button", name="Join the waitlist").click()
    page.get_by_role("heading", name="You are on the waitlist").wait_for()
    check_page(page, "waitlist-3-joined", width)
    entry = WaitlistEntry.objects.get()
    assert entry.reference in page.content()

    # Someone cancels: the waitlisted patient gets an offer and opens its link.
    day = timezone.localdate() + dt.timedelta(days=2)
    slot = slots_free(service=clinic_diary, first_day=day, days=1)[1]
    appointment_cancel(
        appointment=book(clinic_diary, Practitioner.objects.get(), slot.starts_at, phone="+447400999888")
    )
    offer = WaitlistOffer.objects.get(entry=entry)
    page.goto(reverse("callbacks:waitlist_offer", kwargs={"token": waitlist_offer_token(offer)}))
    check_page(page, "waitlist-4-offer", width)
    page.get_by_role("button", name="Take this appointment").click()
    page.get_by_role("heading", name="The time is yours").wait_for()
    check_page(page, "waitlist-5-booked", width)
    assert Appointment.objects.holding().get().request.email == "robin@example.com"


def test_the_reschedule_and_waitlist_pages_are_valid_html(client, clinic_diary, vnu, tmp_path):  # noqa: F811
    practitioner = Practitioner.objects.get()
    day = timezone.localdate() + dt.timedelta(days=2)
    first, second = slots_free(service=clinic_diary, first_day=day, days=1)[:2]
    appointment = book(clinic_diary, practitioner, first.starts_at)
    change = reverse("callbacks:booking_reschedule", kwargs={"token": appointment_reschedule_token(appointment)})
    join = reverse("callbacks:waitlist_join", kwargs={"service": clinic_diary.pk})
    documents = {
        "reschedule: choose": client.get(change).content.decode(),
        "reschedule: confirm": client.get(change, {"slot": second.key}).content.decode(),
        "reschedule: moved": client.post(change, {"slot": second.key}).content.decode(),
        "reschedule: used": client.get(change).content.decode(),
        "waitlist: join": client.get(join).content.decode(),
        "waitlist: join with errors": client.post(join, {"phone": "12"}).content.decode(),
    }
    client.post(join, {"name": "Robin", "phone": "07400 123456", "email": "robin@example.com", "consent": "on"})
    documents["waitlist: joined"] = client.get(reverse("callbacks:waitlist_joined")).content.decode()
    appointment.refresh_from_db()
    appointment_cancel(appointment=appointment)
    offer = WaitlistOffer.objects.get()
    offer_path = reverse("callbacks:waitlist_offer", kwargs={"token": waitlist_offer_token(offer)})
    documents["waitlist: offer"] = client.get(offer_path).content.decode()
    documents["waitlist: booked"] = client.post(offer_path).content.decode()
    assert "The time is yours" in documents["waitlist: booked"]
    assert html_errors(documents, tmp_path) == {}
