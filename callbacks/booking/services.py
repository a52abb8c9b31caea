"""Booking an appointment in a real free slot, staff decisions on it, the patient's cancellation, reminders.

Whether a slot is still free when it is booked is decided by the database alone (the exclusion constraint on
PostgreSQL, triggers on SQLite, see `callbacks.models.Appointment`): two patients who saw the same free slot
both try to insert, and exactly one insert succeeds. E-mails go through the outbox, whose routing decides
who gets them.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from callbacks.booking.calendar import appointment_calendar_change
from callbacks.booking.events import slot_freed_announce
from callbacks.booking.slots import (
    SlotNotOffered,
    SlotTaken,
    SlotWriteRefused,
    slot_offered,
    slot_refusal_reason,
    slot_write,
    slots_nearest,
)
from callbacks.models import Appointment, CallbackRequest, ConsentMethod, Notification, RequestEvent, Service
from callbacks.notifications.outbox import notification_for_appointment_reminder, notification_queue_once
from callbacks.requests.actors import patient_link_actor
from callbacks.requests.services import callback_request_create
from callbacks.requests.workflow import callback_request_status_change, request_event_record
from callbacks.rules.booking import appointment_status_holds_time
from callbacks.rules.requests import ALLOWED_TRANSITIONS
from clinic.hours import clinic_zone
from intake.services import QuestionnaireAnswers

logger = logging.getLogger(__name__)

# Services --------------------------------------------------------------------------------------------------


class _Clash(Exception):
    pass


class JourneySentAsCallback(Exception):
    """The journey being booked was already sent, as a callback request (``request``)."""

    def __init__(self, request: CallbackRequest):
        super().__init__(request.reference)
        self.request = request


def appointment_book(
    *,
    service: Service,
    practitioner_id: int,
    starts_at: dt.datetime,
    name: str,
    phone: str,
    email: str = "",
    reason: str,
    consent_version: str,
    questionnaire: QuestionnaireAnswers | None = None,
    consent_method: str = ConsentMethod.ONLINE,
    consent_recorded_by=None,
    idempotency_key: str = "",
    by_staff: bool = False,
    notify_staff: bool = True,
    notify_patient: bool = True,
    text_consent_version: str = "",
    phone_relay_prefix: str = "",
) -> Appointment:
    """Book a slot: the booking request (kind booking, with its intake and notifications) and the appointment.

    All in one transaction: either the patient holds the slot and the request exists, or nothing is saved.
    The appointment starts as requested: staff confirm or decline it (emergency and urgent triage is flagged
    for them, never confirmed automatically). Raises `SlotNotOffered` (a `SlotTaken` that says why) when the slot
    is not offered (off the schedule, or beyond the booking horizon: the patients', or with ``by_staff`` the
    front desk's), and SlotTaken when another booking holds it; the database decides the latter. Both carry the
    nearest free alternatives.

    With ``idempotency_key`` (the patient's journey), a journey books once: sent again, even at the same
    instant, it books nothing more and returns the appointment booked first (`callback_request_create`).
    Raises `JourneySentAsCallback` when the journey was sent as a callback request instead.

    A course of care (`callbacks.booking.courses`) books each session through here, as far ahead as the desk
    books (``by_staff``), and tells the patient once for the whole course: ``notify_staff`` and
    ``notify_patient`` turn off the new request's own notifications (`callback_request_create`).
    """
    if idempotency_key:
        earlier = Appointment.objects.filter(request__idempotency_key=idempotency_key).first()
        if earlier is not None:
            return earlier
    slot = slot_offered(service=service, practitioner_id=practitioner_id, starts_at=starts_at, by_staff=by_staff)
    if slot is None or not service.active:
        raise SlotNotOffered(
            alternatives=slots_nearest(service=service, around=starts_at, by_staff=by_staff),
            reason=slot_refusal_reason(service=service, starts_at=starts_at, by_staff=by_staff),
        )
    try:
        with transaction.atomic():
            request = callback_request_create(
                kind=CallbackRequest.Kind.BOOKING,
                name=name,
                phone=phone,
                email=email,
                # A booking's "window" is the appointment itself: the triage queue shows when it is.
                window_start=slot.starts_at,
                window_end=slot.ends_at,
                reason=reason,
                consent_version=consent_version,
                questionnaire=questionnaire,
                consent_method=consent_method,
                consent_recorded_by=consent_recorded_by,
                idempotency_key=idempotency_key,
                notify_staff=notify_staff,
                notify_patient=notify_patient,
                text_consent_version=text_consent_version,
                phone_relay_prefix=phone_relay_prefix,
            )
            if request.kind != CallbackRequest.Kind.BOOKING:
                raise JourneySentAsCallback(request)
            earlier = Appointment.objects.filter(request=request).first()
            if earlier is not None:
                # The same journey sent at the same instant: the other send stored the request and its booking.
                return earlier
            try:
                with slot_write():
                    appointment = Appointment.objects.create(
                        practitioner_id=slot.practitioner_id,
                        service=service,
                        starts_at=slot.starts_at,
                        ends_at=slot.ends_at,
                        request=request,
                    )
            except SlotWriteRefused as exc:
                # Leaving the outer block with an exception rolls the request back too.
                raise _Clash from exc
    except _Clash:
        logger.info("slot %s already held; booking refused", slot.key)
        raise SlotTaken(alternatives=slots_nearest(service=service, around=starts_at, by_staff=by_staff)) from None
    logger.info("appointment %s booked for request %s", appointment.pk, request.reference)
    return appointment


def appointment_confirm_by(appointment: Appointment, *, now: dt.datetime | None = None) -> dt.datetime | None:
    """When the patient can expect a requested appointment to be confirmed (or declined): the request's response
    deadline, or the appointment's start if that comes first. None once that time has passed (an overdue
    request): a patient is never told a time already gone."""
    deadline = appointment.request.deadline
    confirm_by = min(deadline, appointment.starts_at) if deadline else appointment.starts_at
    return confirm_by if confirm_by > (now or timezone.now()) else None


@transaction.atomic
def appointment_confirm(*, appointment: Appointment, user, notify_patient: bool = True) -> bool:
    """Confirm a requested appointment, mark its request booked (with history) and e-mail the patient with a
    calendar file (unless ``notify_patient`` is off: a course of care tells the patient once, for every session).
    False, changing nothing, if the appointment was not waiting for a decision."""
    locked = Appointment.objects.select_for_update().select_related("request").get(pk=appointment.pk)
    if locked.status != Appointment.Status.REQUESTED:
        return False
    locked.status = Appointment.Status.CONFIRMED
    locked.decided_by, locked.decided_at = user, timezone.now()
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    if CallbackRequest.Status.BOOKED in ALLOWED_TRANSITIONS[locked.request.status]:
        # The request has done its job: it leaves the response-deadline queue and counts as a patient.
        callback_request_status_change(request=locked.request, status=CallbackRequest.Status.BOOKED, actor=user)
    # No follow-ups yet: they are timed from the first attended visit (`callbacks.booking.attendance`).
    if notify_patient:
        notification_queue_once(
            request=locked.request,
            kind=Notification.Kind.BOOKING_CONFIRMED,
            calendar_sequence=appointment_calendar_change(locked),
        )
    logger.info("appointment %s confirmed by user %s", locked.pk, user.pk)
    return True


@transaction.atomic
def appointment_decline(*, appointment: Appointment, user) -> bool:
    """Decline a requested appointment (the slot is free again) and e-mail the patient. False if not requested."""
    locked = Appointment.objects.select_for_update().select_related("request").get(pk=appointment.pk)
    if locked.status != Appointment.Status.REQUESTED:
        return False
    locked.status = Appointment.Status.DECLINED
    locked.decided_by, locked.decided_at = user, timezone.now()
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    # The first e-mail put the time in the patient's calendar as tentative: the decline takes it out again.
    notification_queue_once(
        request=locked.request,
        kind=Notification.Kind.BOOKING_DECLINED,
        calendar_sequence=appointment_calendar_change(locked),
    )
    slot_freed_announce(practitioner_id=locked.practitioner_id, starts_at=locked.starts_at, ends_at=locked.ends_at)
    logger.info("appointment %s declined by user %s", locked.pk, user.pk)
    return True


@transaction.atomic
def appointment_cancel(*, appointment: Appointment, now: dt.datetime | None = None) -> bool:
    """The patient cancels (through a signed link): the slot is free again, the front desk is told, and the
    patient (when they gave an address) gets an e-mail whose calendar file removes the event; a request that was
    booked by this appointment is closed as declined by the patient (see `callback_requests_expired`).

    False when there is nothing to cancel (already cancelled or declined, or the appointment has started).
    """
    now = now or timezone.now()
    locked = Appointment.objects.select_for_update().select_related("request").get(pk=appointment.pk)
    if not appointment_status_holds_time(locked.status) or locked.starts_at <= now:
        return False
    locked.status = Appointment.Status.CANCELLED
    locked.save(update_fields=["status"])
    if locked.request.status == CallbackRequest.Status.BOOKED:
        # The request no longer leads to an appointment: it leaves "Booked" (which the retention purge keeps as
        # a patient's record) and is closed as the patient's decision, in its history.
        callback_request_status_change(
            request=locked.request,
            status=CallbackRequest.Status.CLOSED,
            outcome=CallbackRequest.Outcome.DECLINED,
            actor=patient_link_actor(),
        )
    notification_queue_once(request=locked.request, kind=Notification.Kind.BOOKING_CANCELLED)
    notification_queue_once(
        request=locked.request,
        kind=Notification.Kind.BOOKING_CANCELLED_BY_PATIENT,
        calendar_sequence=appointment_calendar_change(locked),
    )
    slot_freed_announce(practitioner_id=locked.practitioner_id, starts_at=locked.starts_at, ends_at=locked.ends_at)
    logger.info("appointment %s cancelled by the patient", locked.pk)
    return True


@transaction.atomic
def appointment_patient_confirm(*, appointment: Appointment, now: dt.datetime | None = None) -> bool:
    """The patient says they will come (a "C" or "YES" reply to a text): stamped on the appointment, in the
    request's history. Decided under the appointment's row lock, like the patient's cancel
    (`appointment_cancel`): a confirmation and a cancellation sent at the same instant end one way. False, changing
    nothing, when there is nothing to confirm (cancelled or declined, started, or confirmed already)."""
    now = now or timezone.now()
    locked = Appointment.objects.select_for_update().select_related("request").get(pk=appointment.pk)
    if not appointment_status_holds_time(locked.status) or locked.starts_at <= now:
        return False
    if locked.patient_confirmed_at is not None:
        return False
    locked.patient_confirmed_at = now
    locked.save(update_fields=["patient_confirmed_at"])
    appointment.patient_confirmed_at = now
    request_event_record(
        request=locked.request,
        actor=patient_link_actor(),
        action=RequestEvent.Action.EDITED,
        at=now,
        field="appointment",
        after="The patient confirmed they will come (by text).",
    )
    logger.info("appointment %s confirmed by the patient", locked.pk)
    return True


def appointments_remind(*, now: dt.datetime | None = None) -> int:
    """Queue the reminders (e-mail, text, as the patient chose) of each confirmed appointment starting tomorrow
    (clinic time) or sooner.

    Each appointment time is reminded at most once: `reminder_sent_at` is stamped in the same transaction as the
    outbox row, and only a move clears it (`appointment_reminder_reset`), so a moved appointment is reminded the
    day before its new time. Returns how many were queued.
    """
    now = now or timezone.now()
    zone = clinic_zone()
    day_after_tomorrow = dt.datetime.combine(now.astimezone(zone).date() + dt.timedelta(days=2), dt.time(), tzinfo=zone)
    due = (
        Appointment.objects.filter(
            status=Appointment.Status.CONFIRMED,
            reminder_sent_at__isnull=True,
            starts_at__gt=now,
            starts_at__lt=day_after_tomorrow,
        )
        # Nobody to remind: no address and no texts.
        .exclude(request__email="", request__text_consent_version="")
        .values_list("pk", flat=True)
    )
    reminded = 0
    for pk in list(due):
        with transaction.atomic():
            appointment = (
                Appointment.objects.select_for_update(skip_locked=True)
                .select_related("request")
                .filter(pk=pk, reminder_sent_at__isnull=True, status=Appointment.Status.CONFIRMED)
                .first()
            )
            if appointment is None:
                continue  # another run has it
            appointment.reminder_sent_at = now
            appointment.save(update_fields=["reminder_sent_at"])
            notification_for_appointment_reminder(appointment.request, calendar_sequence=appointment.calendar_sequence)
            reminded += 1
    if reminded:
        logger.info("queued %s appointment reminder(s)", reminded)
    return reminded


def appointment_reminder_reset(appointment: Appointment) -> None:
    """After a move (by staff or by the patient's link), the reminder follows the new time: the appointment is
    reminded again the day before it (`appointments_remind`), and a reminder of the old time that has not gone
    out yet never does; a patient's confirmation of the old time no longer counts. Call in the move's
    transaction, with the appointment locked.

    A reminder a worker is sending at this instant (its row locked) cannot be called back; it is left alone.
    """
    old_reminders = list(
        Notification.objects.filter(
            request_id=appointment.request_id,
            kind=Notification.Kind.BOOKING_REMINDER,
            status=Notification.Status.PENDING,
        )
        .select_for_update(skip_locked=True)
        .values_list("pk", flat=True)
    )
    Notification.objects.filter(pk__in=old_reminders).delete()
    if appointment.reminder_sent_at is not None or appointment.patient_confirmed_at is not None:
        # The patient's "I will come" was for the old time.
        appointment.reminder_sent_at = None
        appointment.patient_confirmed_at = None
        appointment.save(update_fields=["reminder_sent_at", "patient_confirmed_at"])
