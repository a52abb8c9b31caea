"""Issue 26 item 5 and 11: the front desk is offered exactly what it can book (one horizon, refusals that say
why), cancels with a reason and an undo grace that sends nothing when undone and exactly once when kept, a move
carries the deadline with it; the move page picks a day then a time and shows the phone; refused desk forms show
the error summary; an empty diary time opens the booking form on it; the appointments list finds a patient by
name, phone or reference."""

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from callbacks.booking import desk as desk_services
from callbacks.booking.slots import (
    PATIENT_HORIZON_DAYS,
    STAFF_HORIZON_DAYS,
    SlotNotOffered,
    booking_horizon_last_day,
    slots_free,
)
from callbacks.booking.waitlist import waitlist_entry_join
from callbacks.models import Appointment, Notification, RequestEvent, WaitlistOffer
from callbacks.notifications.delivery import notification_send
from callbacks.requests.consent import CURRENT_CONSENT_VERSION
from tests.callbacks.booking.test_booking import a_free_slot, book
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BOOK = reverse("admin:callbacks_appointment_book")
DIARY = reverse("admin:callbacks_appointment_diary")
KEPT_KIND = Notification.Kind.BOOKING_CANCELLED_BY_CLINIC


@pytest.fixture
def desk_user():
    user = UserFactory(username="fran", first_name="Fran", last_name="Desk")
    user.groups.add(Group.objects.get(name="Triage staff"))
    return user


@pytest.fixture
def desk(desk_user):
    client = Client()
    client.force_login(desk_user)
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def today():
    return timezone.localdate()


# One horizon --------------------------------------------------------------------------------------------------


def test_the_staff_list_offers_nothing_beyond_its_horizon_and_everything_it_lists_books(service, practitioner):
    last = booking_horizon_last_day(by_staff=True)
    listed = slots_free(service=service, first_day=last - dt.timedelta(days=2), days=7, by_staff=True)
    assert listed and max(slot.local_start.date() for slot in listed) == last
    # The patients' list stops at their own horizon, whatever a caller asks for.
    assert slots_free(service=service, first_day=today() + dt.timedelta(days=PATIENT_HORIZON_DAYS), days=7) == []
    # A time 30 days ahead (the refused case) is listed to the desk and books.
    far = slots_free(service=service, first_day=today() + dt.timedelta(days=30), days=1, by_staff=True)[0]
    appointment = desk_services.appointment_book_for_caller(
        service=service,
        practitioner_id=far.practitioner_id,
        starts_at=far.starts_at,
        name="Chris Caller",
        phone="+447400111222",
        reason="Back went at work.",
        staff=UserFactory(),
    )
    assert appointment.starts_at == far.starts_at


def test_a_time_beyond_the_desks_horizon_is_refused_with_the_real_reason(service, practitioner):
    beyond = dt.datetime.combine(
        today() + dt.timedelta(days=STAFF_HORIZON_DAYS + 1), dt.time(10), tzinfo=timezone.get_current_timezone()
    )
    with pytest.raises(SlotNotOffered) as refused:
        desk_services.appointment_book_for_caller(
            service=service,
            practitioner_id=practitioner.pk,
            starts_at=beyond,
            name="Chris Caller",
            phone="+447400111222",
            reason="Back went at work.",
            staff=UserFactory(),
        )
    assert "beyond the booking horizon" in refused.value.reason
    assert "Someone else" not in refused.value.reason
    assert not Appointment.objects.exists()


def test_the_booking_page_says_the_real_reason_not_a_race(desk, service, practitioner, monkeypatch):
    slot = a_free_slot(service)
    url = f"{BOOK}?service={service.pk}&practitioner=&day={slot.local_start.date().isoformat()}"

    def refuse(**kwargs):
        raise SlotNotOffered(alternatives=[], reason="The clinic is closed that day.")

    monkeypatch.setattr(desk_services, "appointment_book_for_caller", refuse)
    response = desk.post(
        url,
        {
            "slot": slot.key,
            "name": "Chris Caller",
            "phone": "07400 111222",
            "reason": "Back went at work.",
            "consent": "on",
        },
    )
    page = text(response)
    assert "The clinic is closed that day." in page
    assert "Someone else" not in page


def test_a_search_from_beyond_the_horizon_says_how_far_the_desk_can_book(desk, service, practitioner):
    far = booking_horizon_last_day(by_staff=True) + dt.timedelta(days=3)
    response = desk.get(f"{BOOK}?service={service.pk}&practitioner=&day={far.isoformat()}")
    assert "Times can be booked up to" in text(response)
    assert response.context["slots"] == []


# The error summary ----------------------------------------------------------------------------------------------


def test_a_refused_booking_without_consent_shows_the_focused_error_summary_first(desk, service, practitioner):
    slot = a_free_slot(service)
    url = f"{BOOK}?service={service.pk}&practitioner=&day={slot.local_start.date().isoformat()}"
    response = desk.post(url, {"slot": slot.key, "name": "Chris Caller", "phone": "07400 111222", "reason": "Back."})
    html = response.content.decode()
    assert 'id="error-summary"' in html and "autofocus" in html
    summary = html.index('id="error-summary"')
    assert summary < html.index("1. Service and free times")  # at the top, before any form
    assert 'href="#id_consent"' in html[summary:]
    assert "Book only once the caller has agreed" in html[summary:]
    assert "What you typed is kept. Nothing has been booked." in text(response)
    assert not Appointment.objects.exists()


# Cancel: a reason, a confirmation, and the undo grace ---------------------------------------------------------


def cancel_url(appointment):
    return reverse("admin:callbacks_appointment_cancel", args=[appointment.pk])


def send_due():
    for row in Notification.objects.filter(status=Notification.Status.PENDING).order_by("pk"):
        notification_send(notification_id=row.pk)


def test_cancel_asks_why_and_a_bare_confirmation_cancels_nothing(desk, service, practitioner):
    appointment = book(service, practitioner, a_free_slot(service).starts_at)
    page = desk.get(cancel_url(appointment))
    assert "Cancel this appointment?" in text(page)
    assert 'href="tel:+447400123456"' in page.content.decode()
    refused = desk.post(cancel_url(appointment), {"reason": "  "})
    assert "Say why the appointment is cancelled." in text(refused)
    assert 'id="error-summary"' in refused.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.REQUESTED


def test_an_undone_cancel_sends_nothing_and_the_time_is_held_again(desk, service, practitioner, settings):
    settings.CLINIC_CANCEL_UNDO_MINUTES = 3
    slot = a_free_slot(service)
    appointment = book(service, practitioner, slot.starts_at)
    desk_services.appointment_confirm(appointment=appointment, user=UserFactory())
    Notification.objects.all().delete()
    response = desk.post(cancel_url(appointment), {"reason": "Practitioner ill", "next": DIARY})
    assert response.status_code == 302
    landing = desk.get(response["Location"])
    assert 'value="Undo the cancellation"' in landing.content.decode() and "Nothing has been sent yet" in text(landing)
    held = Notification.objects.get(kind=KEPT_KIND)
    assert held.status == Notification.Status.HELD
    undo = desk.post(reverse("admin:callbacks_appointment_cancel_undo", args=[appointment.pk]), {"next": DIARY})
    assert undo.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CONFIRMED
    assert not Notification.objects.filter(kind=KEPT_KIND).exists()
    # Long after the grace: the release job and the outbox find nothing to send.
    later = timezone.now() + dt.timedelta(minutes=10)
    assert desk_services.appointment_cancellations_release(now=later) == 0
    send_due()
    assert [m for m in mail.outbox if "cancel" in m.body] == []
    history = list(RequestEvent.objects.filter(request=appointment.request, field="appointment").values_list("after"))
    assert ("Cancelled by the clinic: Practitioner ill",) in history
    assert any("cancellation undone" in after for (after,) in history)


def test_a_kept_cancel_sends_exactly_once_after_the_grace_and_offers_the_waitlist_then(
    service, practitioner, settings, django_capture_on_commit_callbacks
):
    settings.CLINIC_CANCEL_UNDO_MINUTES = 3
    slot = a_free_slot(service)
    appointment = book(service, practitioner, slot.starts_at)
    waitlist_entry_join(
        service=service,
        practitioner_id=None,
        weekdays="",
        name="Wai Ting",
        phone="+447400999888",
        email="wai@example.com",
        consent_version=CURRENT_CONSENT_VERSION,
    )
    with django_capture_on_commit_callbacks(execute=True) as queued:
        assert desk_services.appointment_cancel_by_clinic(appointment=appointment, user=UserFactory(), reason="Ill")
    assert queued == []  # nothing published during the grace
    assert not WaitlistOffer.objects.exists()
    send_due()
    assert not [m for m in mail.outbox if m.to == ["alex@example.com"] and "cancel" in m.body]
    # The process died during the grace: nothing but the database remembers. The beat job, once due, releases.
    assert desk_services.appointment_cancellations_release(now=timezone.now() + dt.timedelta(minutes=1)) == 0
    due = timezone.now() + dt.timedelta(minutes=4)
    with django_capture_on_commit_callbacks(execute=False):
        assert desk_services.appointment_cancellations_release(now=due) == 1
        assert desk_services.appointment_cancellations_release(now=due) == 0
    assert WaitlistOffer.objects.count() == 1
    send_due()
    send_due()
    to_patient = [m for m in mail.outbox if m.to == ["alex@example.com"] and "cancel" in m.body]
    assert len(to_patient) == 1 and "cancel" in to_patient[0].body
    # Too late to undo now, and it says so.
    with pytest.raises(desk_services.CancelNotUndone, match="The time to undo has passed"):
        desk_services.appointment_cancel_undo(appointment=appointment, user=UserFactory())


def test_an_undo_after_the_time_was_booked_again_says_so_and_changes_nothing(service, practitioner, settings):
    settings.CLINIC_CANCEL_UNDO_MINUTES = 3
    slot = a_free_slot(service)
    appointment = book(service, practitioner, slot.starts_at)
    desk_services.appointment_cancel_by_clinic(appointment=appointment, user=UserFactory(), reason="Double")
    book(service, practitioner, slot.starts_at, phone="+447400555666", email="")
    with pytest.raises(desk_services.CancelNotUndone, match="booked for someone else"):
        desk_services.appointment_cancel_undo(appointment=appointment, user=UserFactory())
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert Notification.objects.get(kind=KEPT_KIND).status == Notification.Status.HELD


# A move: the deadline, the phone, a day then a time -------------------------------------------------------------


def test_a_move_by_staff_moves_the_requests_deadline_to_the_new_time(service, practitioner):
    first = a_free_slot(service, 10)
    appointment = book(service, practitioner, first.starts_at)
    request = appointment.request
    request.deadline = first.starts_at  # a booking is confirmed before it starts
    request.save(update_fields=["deadline"])
    sooner = a_free_slot(service, 3)
    desk_services.appointment_move(appointment=appointment, starts_at=sooner.starts_at, user=UserFactory())
    request.refresh_from_db()
    assert request.deadline <= sooner.starts_at
    assert request.window_start == sooner.starts_at
    # The patient is told, on the channel they gave (the e-mail with the calendar file that moves their event).
    moved = Notification.objects.get(request=request, kind=Notification.Kind.BOOKING_MOVED)
    assert moved.recipient == "alex@example.com"


def test_the_move_page_shows_the_phone_then_days_then_a_days_times(desk, service, practitioner):
    appointment = book(service, practitioner, a_free_slot(service).starts_at)
    url = reverse("admin:callbacks_appointment_move", args=[appointment.pk])
    days_page = desk.get(url)
    html = days_page.content.decode()
    assert 'href="tel:+447400123456"' in html and "+44 7400 123456" in text(days_page)
    assert "Choose a day" in text(days_page) and 'name="slot"' not in html
    day = a_free_slot(service, 5).local_start.date()
    times_page = desk.get(f"{url}?day={day.isoformat()}")
    assert f"New time on {day:%A} {day.day} {day:%B %Y}" in text(times_page)
    assert html.count('name="slot"') == 0 and times_page.content.decode().count('name="slot"') > 4
    beyond = booking_horizon_last_day(by_staff=True) + dt.timedelta(days=1)
    assert "Times can be booked up to" in text(desk.get(f"{url}?day={beyond.isoformat()}"))


# The diary and the appointments list ---------------------------------------------------------------------------


def test_an_empty_diary_time_opens_the_booking_form_on_that_time(desk, service, practitioner):
    day = today() + dt.timedelta(days=2)
    diary = desk.get(f"{DIARY}?view=day&day={day.isoformat()}")
    link = f"{BOOK}?practitioner={practitioner.pk}&amp;day={day.isoformat()}&amp;at=09:00"
    assert link in diary.content.decode()
    form_page = desk.get(link.replace("&amp;", "&"))
    assert form_page.context["service"] == service  # the practitioner's one service
    chosen = form_page.context["form"]["slot"].value()
    assert chosen == slots_free(service=service, first_day=day, days=1, by_staff=True)[0].key
    assert re.search(rf'value="{chosen}"[^>]*checked', form_page.content.decode())


@pytest.mark.parametrize("typed", ["CB-", "Alex Exa", "07400 123456", "+44 7400 123456", "00447400123456"])
def test_the_appointments_list_finds_a_patient_by_name_phone_or_reference(desk, service, practitioner, typed):
    appointment = book(service, practitioner, a_free_slot(service).starts_at)
    book(service, practitioner, a_free_slot(service, 3).starts_at, name="Other Person", phone="+447400999000")
    term = appointment.request.reference if typed == "CB-" else typed
    response = desk.get(reverse("admin:callbacks_appointment_changelist"), {"q": term})
    assert list(response.context["cl"].result_list) == [appointment]


def test_copying_hours_to_no_day_shows_the_error_summary(admin_client, practitioner):
    url = reverse("admin:callbacks_practitioner_copy_hours", args=[practitioner.pk])
    html = admin_client.post(url, {"from_weekday": "0"}).content.decode()
    summary = html.index('id="error-summary"')
    assert "Tick at least one day to copy to." in html[summary:]
    assert 'href="#id_to_weekdays_0"' in html[summary:]


def test_the_diary_offers_no_booking_link_on_a_closed_day_or_beyond_the_horizon(desk, service, practitioner):
    beyond = booking_horizon_last_day(by_staff=True) + dt.timedelta(days=1)
    html = desk.get(f"{DIARY}?view=day&day={beyond.isoformat()}").content.decode()
    assert "Free (" in html and "desk-free-book" not in html
