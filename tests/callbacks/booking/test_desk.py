"""The front desk's services: booking for a caller (consent by phone), moving and cancelling an appointment."""

import datetime as dt

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from callbacks.booking.desk import appointment_book_for_caller, appointment_cancel_by_clinic, appointment_move
from callbacks.booking.services import appointment_confirm, appointments_remind
from callbacks.booking.slots import SlotTaken, slots_free
from callbacks.models import Appointment, CallbackRequest, ConsentMethod, Notification, Priority, RequestEvent
from callbacks.notifications.delivery import notification_send
from callbacks.requests.consent import CURRENT_CONSENT_VERSION, consent_text_sha256
from intake.definitions import BACK_PAIN, definition_current
from intake.services import QuestionnaireAnswers
from tests.callbacks.booking.test_booking import a_free_slot, book
from tests.factories import CallbackRequestFactory, UserFactory
from tests.support.questionnaire import NO_RED_FLAGS

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk_user():
    return UserFactory(username="fran", first_name="Fran", last_name="Desk")


def book_for_caller(service, practitioner, starts_at, staff, **overrides):
    data = {
        "service": service,
        "practitioner_id": practitioner.pk,
        "starts_at": starts_at,
        "name": "Chris Caller",
        "phone": "+447400111222",
        "email": "chris@example.com",
        "reason": "Back went at work.",
        "staff": staff,
    }
    data.update(overrides)
    return appointment_book_for_caller(**data)


def test_booking_for_a_caller_records_consent_by_phone_and_who_heard_it(service, practitioner, desk_user):
    slot = a_free_slot(service)
    appointment = book_for_caller(service, practitioner, slot.starts_at, desk_user)
    request = appointment.request
    assert appointment.status == Appointment.Status.REQUESTED
    assert request.kind == CallbackRequest.Kind.BOOKING
    assert request.consent_method == ConsentMethod.PHONE
    assert request.consent_recorded_by == desk_user
    assert request.consent_version == CURRENT_CONSENT_VERSION
    assert request.consent_text_sha256 == consent_text_sha256(CURRENT_CONSENT_VERSION)
    assert slot not in slots_free(service=service)


def test_patients_own_bookings_stay_online_consent(service, practitioner):
    appointment = book(service, practitioner, a_free_slot(service).starts_at)
    assert appointment.request.consent_method == ConsentMethod.ONLINE
    assert appointment.request.consent_recorded_by is None


def test_the_database_refuses_a_phone_consent_without_the_staff_member():
    request = CallbackRequestFactory()
    request.consent_method = ConsentMethod.PHONE
    with pytest.raises(IntegrityError), transaction.atomic():
        request.save()


def test_a_caller_cannot_take_a_slot_a_patient_holds(service, practitioner, desk_user):
    slot = a_free_slot(service)
    book(service, practitioner, slot.starts_at)
    with pytest.raises(SlotTaken) as taken:
        book_for_caller(service, practitioner, slot.starts_at, desk_user)
    assert taken.value.alternatives
    assert CallbackRequest.objects.count() == 1


def test_confirm_now_confirms_unless_triage_flags_it(service, practitioner, desk_user):
    routine = book_for_caller(service, practitioner, a_free_slot(service).starts_at, desk_user, confirm=True)
    assert routine.status == Appointment.Status.CONFIRMED
    assert routine.request.status == CallbackRequest.Status.BOOKED
    definition = definition_current(BACK_PAIN)
    answers = {key: key == "both_legs" for key in NO_RED_FLAGS["safety"]}
    flagged = book_for_caller(
        service,
        practitioner,
        a_free_slot(service, days_ahead=3).starts_at,
        desk_user,
        phone="+447400333444",
        confirm=True,
        questionnaire=QuestionnaireAnswers(definition=definition, answers=answers, complete=False),
    )
    assert flagged.request.priority == Priority.EMERGENCY
    assert flagged.status == Appointment.Status.REQUESTED
    assert flagged.request.questionnaire_response.answers.count() == len(answers)


def test_move_takes_the_new_slot_and_records_it(service, practitioner, desk_user):
    first, later = slots_free(service=service, first_day=timezone.localdate() + dt.timedelta(days=2), days=1)[:3:2]
    appointment = book(service, practitioner, first.starts_at)
    moved = appointment_move(appointment=appointment, starts_at=later.starts_at, user=desk_user)
    moved.refresh_from_db()
    assert (moved.starts_at, moved.ends_at) == (later.starts_at, later.ends_at)
    assert (moved.request.window_start, moved.request.window_end) == (later.starts_at, later.ends_at)
    event = RequestEvent.objects.get(request=moved.request, field="appointment")
    assert event.actor == desk_user and "Sam Physio" in event.after and event.before != event.after
    # The old time is free again, the new one is not.
    free = slots_free(service=service)
    assert first in free and later not in free


def remind_and_send(now):
    count = appointments_remind(now=now)
    for notification in Notification.objects.filter(kind=Notification.Kind.BOOKING_REMINDER, status="pending"):
        notification_send(notification_id=notification.pk)
    return count


def day_before_at_nine(when):
    day_before = timezone.localdate(when) - dt.timedelta(days=1)
    return dt.datetime.combine(day_before, dt.time(9), tzinfo=timezone.get_current_timezone())


def test_after_a_move_the_reminder_follows_the_new_time(service, practitioner, desk_user):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    appointment = book(service, practitioner, slots_free(service=service, first_day=tomorrow, days=1)[-1].starts_at)
    appointment_confirm(appointment=appointment, user=desk_user)
    assert remind_and_send(timezone.now()) == 1  # the day before the first time: reminded
    later = slots_free(service=service, first_day=tomorrow + dt.timedelta(days=4), days=1)[0]
    appointment_move(appointment=appointment, starts_at=later.starts_at, user=desk_user)
    mail.outbox.clear()
    # Nothing more until the day before the new time; then exactly one reminder, for the new time.
    assert remind_and_send(timezone.now()) == 0
    assert remind_and_send(day_before_at_nine(later.starts_at)) == 1
    assert remind_and_send(day_before_at_nine(later.starts_at) + dt.timedelta(hours=1)) == 0
    [message] = [m for m in mail.outbox if "reminder" in m.subject.lower()]
    assert timezone.localtime(later.starts_at).strftime("%H:%M") in message.body
    assert later.local_start.strftime("%-d") in message.body


def test_a_reminder_not_yet_sent_for_the_old_time_is_not_sent_after_a_move(service, practitioner, desk_user):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    appointment = book(service, practitioner, slots_free(service=service, first_day=tomorrow, days=1)[-1].starts_at)
    appointment_confirm(appointment=appointment, user=desk_user)
    assert appointments_remind() == 1  # written to the outbox, not sent yet
    later = slots_free(service=service, first_day=tomorrow + dt.timedelta(days=4), days=1)[0]
    appointment_move(appointment=appointment, starts_at=later.starts_at, user=desk_user)
    for notification in Notification.objects.filter(kind=Notification.Kind.BOOKING_REMINDER):
        notification_send(notification_id=notification.pk)
    assert not [m for m in mail.outbox if "reminder" in m.subject.lower()]
    assert remind_and_send(day_before_at_nine(later.starts_at)) == 1
    assert len([m for m in mail.outbox if "reminder" in m.subject.lower()]) == 1


def test_move_onto_a_held_slot_is_refused_and_changes_nothing(service, practitioner, desk_user):
    first = a_free_slot(service)
    other = a_free_slot(service, days_ahead=3)
    appointment = book(service, practitioner, first.starts_at)
    book(service, practitioner, other.starts_at, phone="+447400999999")
    with pytest.raises(SlotTaken):
        appointment_move(appointment=appointment, starts_at=other.starts_at, user=desk_user)
    appointment.refresh_from_db()
    assert appointment.starts_at == first.starts_at
    assert not RequestEvent.objects.filter(field="appointment").exists()


def test_move_off_the_schedule_or_of_a_cancelled_appointment_is_refused(service, practitioner, desk_user):
    appointment = book(service, practitioner, a_free_slot(service).starts_at)
    with pytest.raises(SlotTaken):
        appointment_move(
            appointment=appointment, starts_at=appointment.starts_at + dt.timedelta(minutes=7), user=desk_user
        )
    Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.CANCELLED)
    with pytest.raises(ValueError, match="can be moved"):
        appointment_move(appointment=appointment, starts_at=a_free_slot(service, 4).starts_at, user=desk_user)


def test_cancel_by_clinic_frees_the_time_tells_the_patient_once_and_records_who(
    service, practitioner, desk_user, django_capture_on_commit_callbacks, settings
):
    settings.CLINIC_CANCEL_UNDO_MINUTES = 0  # no undo grace: the e-mail goes at once
    slot = a_free_slot(service)
    appointment = book(service, practitioner, slot.starts_at)
    with django_capture_on_commit_callbacks() as callbacks:
        assert appointment_cancel_by_clinic(appointment=appointment, user=desk_user) is True
    assert len(callbacks) == 1
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert slot in slots_free(service=service)
    notification = Notification.objects.get(kind=Notification.Kind.BOOKING_CANCELLED_BY_CLINIC)
    assert notification.recipient == "alex@example.com"
    assert RequestEvent.objects.get(field="appointment").after == "Cancelled by the clinic"
    assert appointment_cancel_by_clinic(appointment=appointment, user=desk_user) is False
    assert Notification.objects.filter(kind=Notification.Kind.BOOKING_CANCELLED_BY_CLINIC).count() == 1


def test_the_clinics_cancellation_email_names_time_and_reference_only(
    service, practitioner, desk_user, mailoutbox, settings
):
    from callbacks.notifications.delivery import notification_send

    settings.CLINIC_CANCEL_UNDO_MINUTES = 0

    appointment = book(service, practitioner, a_free_slot(service).starts_at, reason="Numb legs since Monday.")
    appointment_cancel_by_clinic(appointment=appointment, user=desk_user)
    notification = Notification.objects.get(kind=Notification.Kind.BOOKING_CANCELLED_BY_CLINIC)
    notification_send(notification_id=notification.pk)
    message = mailoutbox[-1]
    assert appointment.request.reference in message.subject
    assert "cancel" in message.body and "Initial assessment" in message.body
    assert "Numb" not in message.body
