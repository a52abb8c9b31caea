"""Patients move their appointment by the signed link in their e-mail: GET only shows, the move is a POST, the
link works once and expires, the database decides a clash, staff are told and the calendar event is updated."""

import datetime as dt
import re

import pytest
from django.core import mail, signing
from django.urls import reverse
from django.utils import timezone

from callbacks.booking import links
from callbacks.booking.links import appointment_reschedule_token, appointment_reschedule_url
from callbacks.booking.reschedule import RescheduleClosed, appointment_reschedule
from callbacks.booking.services import appointment_cancel, appointment_confirm, appointments_remind
from callbacks.booking.slots import SlotTaken, slots_free
from callbacks.models import Appointment, CallbackRequest, Notification, Practitioner, WorkingHours
from callbacks.requests.actors import PATIENT_LINK_USERNAME
from tests.callbacks.booking.test_booking import a_free_slot, book, parse_ics, send_all
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def reschedule_path(appointment, token=None):
    return reverse("callbacks:booking_reschedule", kwargs={"token": token or appointment_reschedule_token(appointment)})


def two_slots(service, days_ahead=3):
    free = slots_free(service=service, first_day=timezone.localdate() + dt.timedelta(days=days_ahead), days=1)
    return free[0], free[4]


def test_get_shows_free_times_and_a_question_post_moves_once(client, service, practitioner, settings):
    settings.CLINIC_FRONT_DESK_EMAIL = "desk@clinic.test"
    first, second = two_slots(service)
    appointment = book(service, practitioner, first.starts_at)
    path = reschedule_path(appointment)
    url = appointment_reschedule_url(appointment)
    assert url.startswith("http://") and "/book/change/" in url
    assert links.appointment_from_reschedule_token(url.rstrip("/").rpartition("/")[2]) == (appointment, 0)

    # The days, a day's times, then the question: none changes anything (mail scanners follow GET links).
    week = (second.local_start.date() - timezone.localdate()).days // 7
    days = client.get(path + f"?week={week}")
    assert days.status_code == 200
    assert f'href="?day={second.local_start.date()}"' in days.content.decode()
    listing = client.get(path + f"?day={second.local_start.date()}")
    assert listing.status_code == 200
    assert f'value="{second.key}"' in listing.content.decode()
    assert '<form method="get">' in listing.content.decode(), "choosing a time only asks"
    own_day = client.get(path + f"?day={first.local_start.date()}").content.decode()
    assert f'value="{first.key}"' not in own_day  # the patient's own time is not "free"
    question = client.get(path, {"slot": second.key})
    assert "Yes, move my appointment" in question.content.decode()
    appointment.refresh_from_db()
    assert (appointment.starts_at, appointment.revision) == (first.starts_at, 0)
    assert not Notification.objects.filter(kind=Notification.Kind.BOOKING_RESCHEDULED).exists()

    moved = client.post(path, {"slot": second.key})
    assert moved.status_code == 200
    assert "Your appointment is moved" in moved.content.decode()
    appointment.refresh_from_db()
    assert (appointment.starts_at, appointment.ends_at) == (second.starts_at, second.ends_at)
    assert appointment.revision == 1 and appointment.status == Appointment.Status.REQUESTED
    request = CallbackRequest.objects.get(pk=appointment.request_id)
    assert (request.window_start, request.window_end) == (second.starts_at, second.ends_at)
    assert first in slots_free(service=service)  # the earlier time is free for someone else
    event = request.events.get(field="appointment")
    assert event.actor.username == PATIENT_LINK_USERNAME
    assert event.before != event.after
    staff = Notification.objects.get(kind=Notification.Kind.BOOKING_RESCHEDULED)
    assert staff.recipient == "desk@clinic.test"
    assert Notification.objects.get(kind=Notification.Kind.BOOKING_MOVED).recipient == "alex@example.com"

    # Single use: the same link (or a stale tab's POST of another time) no longer moves anything.
    for attempt in (client.get(path), client.post(path, {"slot": first.key})):
        assert attempt.status_code == 410
        assert "This link has been used" in attempt.content.decode()
    appointment.refresh_from_db()
    assert (appointment.starts_at, appointment.revision) == (second.starts_at, 1)


def test_staff_are_told_by_reference_and_the_patients_calendar_event_is_updated(service, practitioner):
    first, second = two_slots(service)
    appointment = book(service, practitioner, first.starts_at)
    appointment_confirm(appointment=appointment, user=UserFactory())
    send_all(Notification.Kind.BOOKING_CONFIRMED)  # in the patient's calendar before the move
    appointment_reschedule(
        appointment=appointment, revision=0, practitioner_id=practitioner.pk, starts_at=second.starts_at
    )
    send_all(Notification.Kind.BOOKING_RESCHEDULED)
    send_all(Notification.Kind.BOOKING_MOVED)
    confirmed, staff, moved = mail.outbox
    reference = appointment.request.reference
    assert reference in staff.subject and reference in staff.body
    assert "/admin/" in staff.body or "callbackrequest" in staff.body
    for message in (staff, moved):
        assert "Alex" not in message.body and "Lower back spasms" not in message.body
    before = parse_ics(confirmed.attachments[0][1])
    after = parse_ics(moved.attachments[0][1])
    assert after["UID"] == before["UID"]
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    assert after["DTSTART"] == second.starts_at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    assert after["STATUS"] == "CONFIRMED"
    # The moved e-mail carries a fresh link for the new revision (the old one is used).
    link = re.search(r"http\S+/book/change/(\S+)/", moved.body).group(1)
    assert signing.TimestampSigner(salt=links.RESCHEDULE_LINK_SALT).unsign_object(link)["r"] == 1


def test_a_second_move_is_announced_too(service, practitioner):
    first, second = two_slots(service)
    third = two_slots(service, days_ahead=4)[0]
    appointment = book(service, practitioner, first.starts_at)
    appointment_reschedule(
        appointment=appointment, revision=0, practitioner_id=practitioner.pk, starts_at=second.starts_at
    )
    appointment_reschedule(
        appointment=appointment, revision=1, practitioner_id=practitioner.pk, starts_at=third.starts_at
    )
    assert Notification.objects.filter(kind=Notification.Kind.BOOKING_RESCHEDULED).count() == 2
    with pytest.raises(RescheduleClosed):
        appointment_reschedule(
            appointment=appointment, revision=1, practitioner_id=practitioner.pk, starts_at=first.starts_at
        )


def test_tampered_and_expired_links_are_refused(client, service, practitioner, monkeypatch):
    first, second = two_slots(service)
    appointment = book(service, practitioner, first.starts_at)
    token = appointment_reschedule_token(appointment)
    forged = signing.TimestampSigner(salt="another purpose").sign_object({"a": appointment.pk, "r": 0})
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), forged, "nonsense"):
        response = client.post(reschedule_path(appointment, bad), {"slot": second.key})
        assert response.status_code == 404
    monkeypatch.setattr(links, "RESCHEDULE_LINK_MAX_AGE", dt.timedelta(seconds=-1))
    response = client.post(reschedule_path(appointment, token), {"slot": second.key})
    assert response.status_code == 404 and "does not work" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.starts_at == first.starts_at


def test_a_time_taken_meanwhile_gets_409_with_alternatives_and_changes_nothing(client, service, practitioner):
    first, second = two_slots(service)
    appointment = book(service, practitioner, first.starts_at)
    path = reschedule_path(appointment)
    assert client.get(path, {"slot": second.key}).status_code == 200  # the question was shown ...
    book(service, practitioner, second.starts_at, phone="+447400999999")  # ... then someone booked the time
    response = client.post(path, {"slot": second.key})
    assert response.status_code == 409
    page = response.content.decode()
    assert "that time was just taken" in page.lower() and 'name="slot"' in page
    appointment.refresh_from_db()
    assert (appointment.starts_at, appointment.revision) == (first.starts_at, 0)
    assert not Notification.objects.filter(kind=Notification.Kind.BOOKING_RESCHEDULED).exists()
    # The service refuses it too, whatever the caller checked before: the database decides.
    with pytest.raises(SlotTaken):
        appointment_reschedule(
            appointment=appointment, revision=0, practitioner_id=practitioner.pk, starts_at=second.starts_at
        )


def test_a_forged_slot_or_another_practitioners_time_outside_their_hours_is_refused(client, service, practitioner):
    first, second = two_slots(service)
    appointment = book(service, practitioner, first.starts_at)
    other = Practitioner.objects.create(name="Jo Physio")
    other.services.add(service)
    WorkingHours.objects.create(practitioner=other, weekday=0, start=dt.time(9), end=dt.time(10))
    for key in ("nonsense", f"{other.pk}-{int(second.starts_at.timestamp()) + 60}", f"{practitioner.pk}-99"):
        response = client.post(reschedule_path(appointment), {"slot": key})
        assert response.status_code == 409, key
    appointment.refresh_from_db()
    assert appointment.starts_at == first.starts_at


def test_a_cancelled_or_past_appointment_cannot_be_moved(client, service, practitioner):
    first, second = two_slots(service)
    appointment = book(service, practitioner, first.starts_at)
    path = reschedule_path(appointment)
    appointment_cancel(appointment=appointment)
    response = client.post(path, {"slot": second.key})
    assert response.status_code == 410 and "cannot be changed" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED and appointment.starts_at == first.starts_at


def test_patient_emails_carry_the_reschedule_link(service, practitioner):
    appointment = book(service, practitioner, a_free_slot(service).starts_at)
    send_all(Notification.Kind.PATIENT_CONFIRMATION)
    [message] = [m for m in mail.outbox if m.to == ["alex@example.com"]]
    token = re.search(r"http\S+/book/change/(\S+)/", message.body).group(1)
    assert links.appointment_from_reschedule_token(token) == (appointment, 0)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_patients_moving_into_one_slot_at_once_one_wins(service, practitioner):
    """Two appointments move into the same free time in two connections at once: the exclusion constraint
    lets exactly one update through."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from django.db import connection

    first, target = two_slots(service)
    other = slots_free(service=service, first_day=timezone.localdate() + dt.timedelta(days=5), days=1)[0]
    movers = [
        book(service, practitioner, first.starts_at),
        book(service, practitioner, other.starts_at, phone="+447400222333"),
    ]
    barrier = Barrier(2, timeout=30)

    def move(appointment):
        try:
            barrier.wait()
            appointment_reschedule(
                appointment=appointment, revision=0, practitioner_id=practitioner.pk, starts_at=target.starts_at
            )
            return "moved"
        except SlotTaken:
            return "taken"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(move, movers))
    assert outcomes == ["moved", "taken"]
    assert Appointment.objects.holding().filter(starts_at=target.starts_at).count() == 1
    assert Notification.objects.filter(kind=Notification.Kind.BOOKING_RESCHEDULED).count() == 1


def test_a_patients_move_is_reminded_the_day_before_the_new_time_not_the_old(service, practitioner):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    appointment = book(service, practitioner, slots_free(service=service, first_day=tomorrow, days=1)[-1].starts_at)
    appointment_confirm(appointment=appointment, user=UserFactory())
    assert appointments_remind() == 1  # the old time's reminder, written but not sent yet
    later = slots_free(service=service, first_day=tomorrow + dt.timedelta(days=4), days=1)[0]
    appointment_reschedule(
        appointment=appointment, revision=0, practitioner_id=practitioner.pk, starts_at=later.starts_at
    )
    day_before = dt.datetime.combine(
        timezone.localdate(later.starts_at) - dt.timedelta(days=1), dt.time(9), tzinfo=timezone.get_current_timezone()
    )
    assert appointments_remind() == 0
    assert appointments_remind(now=day_before) == 1
    send_all(Notification.Kind.BOOKING_REMINDER)
    [reminder] = [message for message in mail.outbox if "reminder" in message.subject.lower()]
    assert timezone.localtime(later.starts_at).strftime("%H:%M") in reminder.body


@pytest.mark.parametrize(
    ("day", "message"),
    [("nonsense", "We could not read that day."), ("2001-01-01", "That day has passed."), ("9999-01-01", "4 weeks")],
)
def test_a_reschedule_link_with_a_day_it_cannot_show_says_so_above_the_days(
    client, service, practitioner, day, message
):
    first, _ = two_slots(service)
    appointment = book(service, practitioner, first.starts_at)
    response = client.get(reschedule_path(appointment) + f"?day={day}")
    assert response.status_code == 200
    page = response.content.decode()
    assert message in re.search(r'<p class="alert alert-warning" role="alert">([^<]+)</p>', page).group(1)
    assert len(re.findall(r'class="booking-date[" ]', page)) == 7 and 'name="slot"' not in page
    appointment.refresh_from_db()
    assert appointment.starts_at == first.starts_at
