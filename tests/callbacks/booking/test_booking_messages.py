"""Issue 24, item 4: what the patient is told at every step of a booking, and how their calendar follows.

For each path (the patient books; staff confirm or decline; the patient cancels or moves by the links in their
e-mail; staff cancel or move it at the desk) the outbox row the patient gets, the e-mail it becomes (both links
while the appointment can still change, none after), and its calendar file read back with icalendar: one UID,
a SEQUENCE that only goes up, METHOD:CANCEL and STATUS:CANCELLED when the appointment is gone.
"""

import datetime as dt

import icalendar
import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from callbacks.booking.desk import appointment_cancel_by_clinic, appointment_move
from callbacks.booking.links import appointment_cancel_token, appointment_reschedule_token
from callbacks.booking.services import appointment_cancel, appointment_confirm, appointment_decline, appointments_remind
from callbacks.booking.slots import slots_free
from callbacks.models import CallbackRequest, Notification
from callbacks.notifications.delivery import notification_send
from callbacks.web.details import SESSION_BOOKED_KEY
from tests.callbacks.booking.test_booking import book
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def signed_payload(token: str) -> str:
    """What a signed link says (the appointment and its revision), without the second it was signed in: the e-mail
    was signed a moment before the test signs the same thing again, possibly in the second before."""
    return token.split(":")[0] + ":"


Kind = Notification.Kind
PATIENT = "alex@example.com"
CANCEL_PATH = "/book/cancel/"
RESCHEDULE_PATH = "/book/change/"


def free_slots(service, days_ahead=3):
    return slots_free(service=service, first_day=timezone.localdate() + dt.timedelta(days=days_ahead), days=1)


def deliver(kind) -> list:
    """Send the pending rows of ``kind``; the e-mails they became, in order."""
    before = len(mail.outbox)
    for notification in Notification.objects.filter(kind=kind, status=Notification.Status.PENDING).order_by("pk"):
        notification_send(notification_id=notification.pk)
    return mail.outbox[before:]


def only(kind):
    [message] = deliver(kind)
    return message


def calendar_of(message) -> tuple[str, icalendar.Event]:
    [(filename, text, mimetype)] = message.attachments
    assert (filename, mimetype) == ("appointment.ics", "text/calendar")
    calendar = icalendar.Calendar.from_ical(text)
    [event] = calendar.walk("VEVENT")
    return str(calendar["METHOD"]), event


def assert_no_links(body: str) -> None:
    assert CANCEL_PATH not in body and RESCHEDULE_PATH not in body


def assert_no_health_details(message) -> None:
    text = message.subject + message.body + "".join(str(a[1]) for a in message.attachments)
    assert "Lower back spasms" not in text and "Alex" not in text


@pytest.fixture
def staff():
    return UserFactory()


def test_first_email_says_waiting_for_the_clinic_with_both_links_and_a_tentative_file(service, practitioner):
    appointment = book(service, practitioner, free_slots(service)[0].starts_at)
    message = only(Kind.PATIENT_CONFIRMATION)
    assert message.to == [PATIENT]
    assert "waiting for us to confirm" in message.subject
    assert "Waiting for the clinic to confirm" in message.body and "We aim to confirm it by" in message.body
    assert "held" not in message.body.lower()
    assert f"{CANCEL_PATH}{signed_payload(appointment_cancel_token(appointment))}" in message.body
    assert f"{RESCHEDULE_PATH}{signed_payload(appointment_reschedule_token(appointment))}" in message.body
    assert_no_health_details(message)
    method, event = calendar_of(message)
    assert (method, str(event["STATUS"]), event["SEQUENCE"]) == ("PUBLISH", "TENTATIVE", 0)


def test_confirm_emails_the_patient_once_with_both_links_and_a_higher_sequence(service, practitioner, staff):
    appointment = book(service, practitioner, free_slots(service)[0].starts_at)
    assert appointment_confirm(appointment=appointment, user=staff)
    row = Notification.objects.get(kind=Kind.BOOKING_CONFIRMED)
    assert (row.recipient, row.calendar_sequence) == (PATIENT, 1)
    message = only(Kind.BOOKING_CONFIRMED)
    assert "Your appointment is confirmed" in message.body
    assert CANCEL_PATH in message.body and RESCHEDULE_PATH in message.body
    method, event = calendar_of(message)
    assert (method, str(event["STATUS"]), event["SEQUENCE"]) == ("PUBLISH", "CONFIRMED", 1)


def test_the_reminder_carries_both_links_and_the_last_files_sequence(service, practitioner, staff):
    slot = slots_free(service=service, first_day=timezone.localdate() + dt.timedelta(days=1), days=1)[-1]
    appointment = book(service, practitioner, slot.starts_at)
    appointment_confirm(appointment=appointment, user=staff)
    assert appointments_remind(now=slot.starts_at - dt.timedelta(hours=20)) == 1
    message = only(Kind.BOOKING_REMINDER)
    assert CANCEL_PATH in message.body and RESCHEDULE_PATH in message.body
    method, event = calendar_of(message)
    assert (method, str(event["STATUS"]), event["SEQUENCE"]) == ("PUBLISH", "CONFIRMED", 1)


def test_decline_emails_the_patient_a_cancellation_of_the_tentative_event_without_links(service, practitioner, staff):
    appointment = book(service, practitioner, free_slots(service)[0].starts_at)
    assert appointment_decline(appointment=appointment, user=staff)
    message = only(Kind.BOOKING_DECLINED)
    assert message.to == [PATIENT]
    assert_no_links(message.body)
    method, event = calendar_of(message)
    assert (method, str(event["STATUS"]), event["SEQUENCE"]) == ("CANCEL", "CANCELLED", 1)
    assert str(event["UID"]) == f"appointment-{appointment.pk}@localhost"


def test_patient_cancels_by_link_and_gets_a_cancellation_with_a_cancel_file(client, service, practitioner, staff):
    appointment = book(service, practitioner, free_slots(service)[0].starts_at)
    appointment_confirm(appointment=appointment, user=staff)
    page = client.post(reverse("callbacks:booking_cancel", kwargs={"token": appointment_cancel_token(appointment)}))
    assert "We have e-mailed you to confirm this" in page.content.decode()
    # The desk still hears of it; the patient now does too.
    desk = only(Kind.BOOKING_CANCELLED)
    assert desk.to != [PATIENT]
    message = only(Kind.BOOKING_CANCELLED_BY_PATIENT)
    assert message.to == [PATIENT]
    assert "cancelled, as you asked" in message.subject and appointment.request.reference in message.body
    assert_no_links(message.body)
    assert_no_health_details(message)
    method, event = calendar_of(message)
    assert (method, str(event["STATUS"]), event["SEQUENCE"]) == ("CANCEL", "CANCELLED", 2)
    assert event.decoded("DTSTART") == appointment.starts_at
    # Cancelling again (a second tab) writes nothing more.
    client.post(reverse("callbacks:booking_cancel", kwargs={"token": appointment_cancel_token(appointment)}))
    assert Notification.objects.filter(kind=Kind.BOOKING_CANCELLED_BY_PATIENT).count() == 1


def test_staff_cancel_emails_the_patient_a_cancel_file(service, practitioner, staff, settings):
    settings.CLINIC_CANCEL_UNDO_MINUTES = 0  # no undo grace: the e-mail goes at once
    appointment = book(service, practitioner, free_slots(service)[0].starts_at)
    assert appointment_cancel_by_clinic(appointment=appointment, user=staff)
    message = only(Kind.BOOKING_CANCELLED_BY_CLINIC)
    assert message.to == [PATIENT] and "we have had to cancel" in message.body
    assert_no_links(message.body)
    method, event = calendar_of(message)
    assert (method, str(event["STATUS"]), event["SEQUENCE"]) == ("CANCEL", "CANCELLED", 1)


def test_patient_moves_by_link_and_gets_the_new_time_with_both_fresh_links(client, service, practitioner):
    first, *_, later = free_slots(service)
    appointment = book(service, practitioner, first.starts_at)
    path = reverse("callbacks:booking_reschedule", kwargs={"token": appointment_reschedule_token(appointment)})
    assert client.post(path, {"slot": later.key}).status_code == 200
    message = only(Kind.BOOKING_MOVED)
    assert message.to == [PATIENT]
    assert later.local_start.strftime("%H:%M") in message.body
    assert "Waiting for the clinic to confirm" in message.body
    appointment.refresh_from_db()
    assert (
        f"{RESCHEDULE_PATH}{signed_payload(appointment_reschedule_token(appointment))}" in message.body
    )  # the new revision
    assert CANCEL_PATH in message.body
    method, event = calendar_of(message)
    assert (method, str(event["STATUS"]), event["SEQUENCE"]) == ("PUBLISH", "TENTATIVE", 1)
    assert event.decoded("DTSTART") == later.starts_at


def test_staff_move_emails_the_patient_only_with_the_new_time_and_kills_the_old_link(
    client, service, practitioner, staff
):
    first, *_, later = free_slots(service)
    appointment = book(service, practitioner, first.starts_at)
    old_link = reverse("callbacks:booking_reschedule", kwargs={"token": appointment_reschedule_token(appointment)})
    appointment_confirm(appointment=appointment, user=staff)
    appointment_move(appointment=appointment, starts_at=later.starts_at, user=staff)
    # Staff moved it themselves: nobody at the desk is told of their own move.
    assert not Notification.objects.filter(kind=Kind.BOOKING_RESCHEDULED).exists()
    message = only(Kind.BOOKING_MOVED)
    assert message.to == [PATIENT] and "Status:    Confirmed" in message.body
    assert CANCEL_PATH in message.body and RESCHEDULE_PATH in message.body
    method, event = calendar_of(message)
    assert (method, str(event["STATUS"]), event["SEQUENCE"]) == ("PUBLISH", "CONFIRMED", 2)
    assert event.decoded("DTSTART") == later.starts_at
    stale = client.get(old_link)  # the link sent for the old time has been replaced
    assert stale.status_code == 410 and "has been moved since this link was sent" in stale.content.decode()


def test_book_confirm_move_move_cancel_sends_one_event_with_a_strictly_rising_sequence(
    client, service, practitioner, staff
):
    slots = free_slots(service)
    appointment = book(service, practitioner, slots[0].starts_at)
    files = [calendar_of(only(Kind.PATIENT_CONFIRMATION))]
    appointment_confirm(appointment=appointment, user=staff)
    files.append(calendar_of(only(Kind.BOOKING_CONFIRMED)))
    appointment.refresh_from_db()
    path = reverse("callbacks:booking_reschedule", kwargs={"token": appointment_reschedule_token(appointment)})
    client.post(path, {"slot": slots[3].key})
    files += [calendar_of(m) for m in deliver(Kind.BOOKING_MOVED)]
    appointment_move(appointment=appointment, starts_at=slots[5].starts_at, user=staff)
    files += [calendar_of(m) for m in deliver(Kind.BOOKING_MOVED)]
    appointment.refresh_from_db()
    assert appointment_cancel(appointment=appointment)
    files.append(calendar_of(only(Kind.BOOKING_CANCELLED_BY_PATIENT)))

    assert [method for method, _ in files] == ["PUBLISH"] * 4 + ["CANCEL"]
    assert [str(event["STATUS"]) for _, event in files] == ["TENTATIVE"] + ["CONFIRMED"] * 3 + ["CANCELLED"]
    assert len({str(event["UID"]) for _, event in files}) == 1
    sequences = [event["SEQUENCE"] for _, event in files]
    assert sequences == sorted(set(sequences)) and len(sequences) == 5, sequences
    assert [event.decoded("DTSTART") for _, event in files][2:4] == [slots[3].starts_at, slots[5].starts_at]


def test_an_email_still_waiting_when_the_appointment_is_cancelled_carries_no_link_and_no_file(
    service, practitioner, staff
):
    appointment = book(service, practitioner, free_slots(service)[0].starts_at)
    appointment_confirm(appointment=appointment, user=staff)
    appointment_cancel(appointment=appointment)
    confirmed = only(Kind.BOOKING_CONFIRMED)  # the worker was slow: it goes out after the cancellation
    assert_no_links(confirmed.body)
    assert not confirmed.attachments
    method, event = calendar_of(only(Kind.BOOKING_CANCELLED_BY_PATIENT))
    assert (method, event["SEQUENCE"]) == ("CANCEL", 2)


def test_a_patient_without_an_address_gets_no_row_and_nothing_breaks(client, service, practitioner, staff):
    slots = free_slots(service)
    appointment = book(service, practitioner, slots[0].starts_at, email="")
    appointment_confirm(appointment=appointment, user=staff)
    appointment_move(appointment=appointment, starts_at=slots[4].starts_at, user=staff)
    assert appointment_cancel(appointment=appointment)
    patient_rows = Notification.objects.exclude(kind__in=[Kind.STAFF_NEW_REQUEST, Kind.BOOKING_CANCELLED])
    assert not patient_rows.exists()
    assert Notification.objects.filter(kind=Kind.BOOKING_CANCELLED).exclude(recipient="").count() == 1


def test_the_patients_cancel_rows_are_queued_after_commit_only(
    service, practitioner, django_capture_on_commit_callbacks
):
    appointment = book(service, practitioner, free_slots(service)[0].starts_at)
    with django_capture_on_commit_callbacks() as callbacks:
        appointment_cancel(appointment=appointment)
    rows = Notification.objects.filter(kind__in=[Kind.BOOKING_CANCELLED, Kind.BOOKING_CANCELLED_BY_PATIENT])
    assert rows.count() == 2 and all(row.status == Notification.Status.PENDING for row in rows)
    assert len(callbacks) == 2


# The page after booking ----------------------------------------------------------------------------------------


def done_page(client, appointment) -> str:
    session = client.session
    session[SESSION_BOOKED_KEY] = appointment.pk
    session.save()
    return client.get(reverse("callbacks:booking_done")).content.decode()


def test_the_done_page_says_waiting_for_the_clinic_and_when(client, service, practitioner):
    appointment = book(service, practitioner, free_slots(service)[0].starts_at)
    page = done_page(client, appointment)
    assert "Waiting for the clinic to confirm" in page
    assert "This is not confirmed yet: we aim to confirm it by" in page
    assert "We will e-mail you as soon as it is confirmed" in page
    assert "held" not in page.split("<main")[1].lower()
    assert "prepare for your call" not in page


def test_the_done_page_says_confirmed_once_staff_confirmed(client, service, practitioner, staff):
    appointment = book(service, practitioner, free_slots(service)[0].starts_at, email="")
    appointment_confirm(appointment=appointment, user=staff)
    page = done_page(client, appointment)
    assert "<strong>Confirmed</strong>" in page and "Your appointment is confirmed" in page
    assert "Waiting for the clinic" not in page and "not confirmed yet" not in page


def test_the_done_page_names_the_confirm_by_time_and_never_one_already_gone(client, service, practitioner):
    appointment = book(service, practitioner, free_slots(service)[0].starts_at)
    confirm_by = min(appointment.request.deadline, appointment.starts_at)
    expected = timezone.localtime(confirm_by).strftime("%A %-d %B, %H:%M")
    assert f'<strong id="confirm-by">{expected}</strong>' in done_page(client, appointment)
    # Overdue: the patient is not told a time that has passed, only that it is not confirmed yet.
    CallbackRequest.objects.filter(pk=appointment.request_id).update(deadline=timezone.now() - dt.timedelta(hours=1))
    page = done_page(client, appointment)
    assert "This is not confirmed yet." in page and 'id="confirm-by"' not in page
