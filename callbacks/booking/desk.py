"""What the front desk does to appointments: book for a caller, move one to another free slot, cancel one.

Booking for a caller is the patients' own booking (`appointment_book`: the same free slots, the same database
guarantee against double booking), with the consent told by phone recorded as such. Moving and cancelling
lock the appointment, let the database decide whether the new time is free, and write the change into the
request's history in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from callbacks.booking.calendar import appointment_calendar_change
from callbacks.booking.events import slot_freed_announce
from callbacks.booking.reschedule import appointment_movable
from callbacks.booking.services import appointment_book, appointment_confirm, appointment_reminder_reset
from callbacks.booking.slots import (
    SlotNotOffered,
    SlotTaken,
    SlotWriteRefused,
    slot_offered,
    slot_refusal_reason,
    slot_write,
    slots_nearest,
)
from callbacks.models import Appointment, ConsentMethod, Notification, RequestEvent, Service
from callbacks.notifications.outbox import (
    notification_queue_once,
    notifications_for_appointment_moved,
    notifications_held_drop,
    notifications_release_held,
)
from callbacks.requests.consent import CURRENT_CONSENT_VERSION
from callbacks.requests.services import callback_request_window_move
from callbacks.requests.workflow import moment_label
from callbacks.rules.booking import appointment_status_holds_time
from intake.services import QuestionnaireAnswers

logger = logging.getLogger(__name__)


def appointment_book_for_caller(
    *,
    service: Service,
    practitioner_id: int,
    starts_at: dt.datetime,
    name: str,
    phone: str,
    email: str = "",
    reason: str,
    staff: AbstractBaseUser,
    questionnaire: QuestionnaireAnswers | None = None,
    confirm: bool = False,
    text_consent_version: str = "",
    phone_relay_prefix: str = "",
) -> Appointment:
    """Book a free slot for someone on the phone; ``staff`` is who took the call and heard the consent.

    Exactly the patients' booking (raises `SlotTaken`, saving nothing, when the slot is gone), with the
    current consent text recorded as given by phone to ``staff`` (and the caller's choice of texts with it). With
    ``confirm``, the appointment is confirmed at once unless triage flagged it (emergency or urgent): staff read
    the answers first.
    """
    appointment = appointment_book(
        service=service,
        practitioner_id=practitioner_id,
        starts_at=starts_at,
        name=name,
        phone=phone,
        email=email,
        reason=reason,
        consent_version=CURRENT_CONSENT_VERSION,
        questionnaire=questionnaire,
        consent_method=ConsentMethod.PHONE,
        consent_recorded_by=staff,
        by_staff=True,
        text_consent_version=text_consent_version,
        phone_relay_prefix=phone_relay_prefix,
    )
    logger.info("appointment %s booked by phone by user %s", appointment.pk, staff.pk)
    if confirm and not appointment.flagged:
        appointment_confirm(appointment=appointment, user=staff)
        appointment.refresh_from_db()
    return appointment


def _label(appointment: Appointment) -> str:
    return f"{moment_label(appointment.starts_at)} with {appointment.practitioner.name}"


def _history(appointment: Appointment, *, actor: AbstractBaseUser, before: str, after: str) -> None:
    RequestEvent.objects.create(
        request=appointment.request,
        actor=actor,
        at=timezone.now(),
        action=RequestEvent.Action.EDITED,
        field="appointment",
        before=before,
        after=after,
    )


def appointment_move(
    *,
    appointment: Appointment,
    starts_at: dt.datetime,
    user: AbstractBaseUser,
    practitioner_id: int | None = None,
) -> Appointment:
    """Move a requested or confirmed appointment to another offered slot (same service; the same or another
    practitioner who offers it). One transaction: the appointment, its request's time, the history line and the
    patient's e-mail with the new time and a calendar file that moves their event (when they gave an address).
    The revision rises, as for the patient's own move: reschedule links sent before stop working, and the e-mail
    brings fresh ones.

    Raises `SlotNotOffered`, saying why, when the new slot is not offered (the front desk's booking horizon),
    and `SlotTaken` when someone else holds it (the database decides), both with the nearest free alternatives;
    raises `ValueError` when the appointment cannot be moved (not
    holding a time, or already started). Nothing is saved then.
    """
    now = timezone.now()
    practitioner_id = practitioner_id or appointment.practitioner_id
    with transaction.atomic():
        locked = (
            Appointment.objects.select_for_update()
            .select_related("request", "practitioner", "service")
            .get(pk=appointment.pk)
        )
        if not appointment_movable(locked, now=now):
            raise ValueError("Only a requested or confirmed appointment that has not started can be moved.")
        slot = slot_offered(
            service=locked.service, practitioner_id=practitioner_id, starts_at=starts_at, now=now, by_staff=True
        )
        if slot is None:
            raise SlotNotOffered(
                alternatives=slots_nearest(service=locked.service, around=starts_at, now=now, by_staff=True),
                reason=slot_refusal_reason(service=locked.service, starts_at=starts_at, by_staff=True, now=now),
            )
        before = _label(locked)
        freed = (locked.practitioner_id, locked.starts_at, locked.ends_at)
        locked.practitioner_id, locked.starts_at, locked.ends_at = slot.practitioner_id, slot.starts_at, slot.ends_at
        locked.revision += 1
        try:
            with slot_write():
                locked.save(update_fields=["practitioner", "starts_at", "ends_at", "revision"])
        except SlotWriteRefused:
            logger.info("move of appointment %s refused: the slot is held", locked.pk)
            raise SlotTaken(
                alternatives=slots_nearest(service=locked.service, around=starts_at, now=now, by_staff=True)
            ) from None
        request = locked.request
        callback_request_window_move(request=request, window_start=slot.starts_at, window_end=slot.ends_at)
        locked.practitioner.name = slot.practitioner_name
        _history(locked, actor=user, before=before, after=_label(locked))
        notifications_for_appointment_moved(
            request, by_patient=False, calendar_sequence=appointment_calendar_change(locked)
        )
        appointment_reminder_reset(locked)
        slot_freed_announce(practitioner_id=freed[0], starts_at=freed[1], ends_at=freed[2])
    logger.info("appointment %s moved by user %s", locked.pk, user.pk)
    return locked


class CancelNotUndone(Exception):
    """The cancellation cannot be undone; ``reason`` says why, for staff to read. Nothing was changed."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def cancel_undo_grace() -> dt.timedelta:
    """How long the front desk can undo a cancellation (`CLINIC_CANCEL_UNDO_MINUTES`)."""
    return dt.timedelta(minutes=max(0, settings.CLINIC_CANCEL_UNDO_MINUTES))


@transaction.atomic
def appointment_cancel_by_clinic(*, appointment: Appointment, user: AbstractBaseUser, reason: str = "") -> bool:
    """The clinic cancels a requested or confirmed appointment that has not started: the time is free again at
    once (the desk can book it), the request's history says who cancelled it and why, and the patient is
    e-mailed once (if they gave an address).

    The e-mail and the waitlist's offers of the freed time wait for the undo grace (`cancel_undo_grace`): the
    e-mail's outbox row is written held, due when the grace ends, and `appointment_cancellations_release` (a beat
    job) sends it and offers the time then; `appointment_cancel_undo` before that sends nothing. Everything is in
    the database, so a process that dies during the grace loses nothing. With no grace, both go at once.

    False, changing nothing, when there is nothing to cancel.
    """
    now = timezone.now()
    locked = Appointment.objects.select_for_update().select_related("request", "practitioner").get(pk=appointment.pk)
    if not appointment_status_holds_time(locked.status) or locked.starts_at <= now:
        return False
    before = f"{_label(locked)} ({locked.get_status_display()})"
    grace = cancel_undo_grace()
    held_until = now + grace if grace else None
    locked.status_before_cancel = locked.status
    locked.status = Appointment.Status.CANCELLED
    locked.cancel_reason = reason
    locked.cancel_undo_until = held_until
    locked.save(update_fields=["status", "status_before_cancel", "cancel_reason", "cancel_undo_until"])
    _history(locked, actor=user, before=before, after=f"Cancelled by the clinic{f': {reason}' if reason else ''}")
    notification_queue_once(
        request=locked.request,
        kind=Notification.Kind.BOOKING_CANCELLED_BY_CLINIC,
        calendar_sequence=appointment_calendar_change(locked),
        held_until=held_until,
    )
    if held_until is None:
        slot_freed_announce(practitioner_id=locked.practitioner_id, starts_at=locked.starts_at, ends_at=locked.ends_at)
    logger.info("appointment %s cancelled by user %s", locked.pk, user.pk)
    return True


def appointment_cancel_undo(*, appointment: Appointment, user: AbstractBaseUser) -> Appointment:
    """Undo the clinic's cancellation within its grace: the appointment holds its time again, as it was
    (requested or confirmed), its held e-mail is deleted unsent, and the history says who undid it. One
    transaction.

    Raises `CancelNotUndone` (changing nothing) when the grace is over, the appointment is not a cancellation by
    the clinic, or someone has booked the time meanwhile (the database decides, as for any booking).
    """
    now = timezone.now()
    with transaction.atomic():
        locked = (
            Appointment.objects.select_for_update().select_related("request", "practitioner").get(pk=appointment.pk)
        )
        if locked.status != Appointment.Status.CANCELLED or not locked.status_before_cancel:
            raise CancelNotUndone("This appointment has no cancellation by the clinic to undo.")
        if locked.cancel_undo_until is None or locked.cancel_undo_until <= now:
            raise CancelNotUndone("The time to undo has passed: the patient has been told of the cancellation.")
        if locked.starts_at <= now:
            raise CancelNotUndone("The appointment's time has come: book a new one instead.")
        locked.status = locked.status_before_cancel or Appointment.Status.REQUESTED
        locked.cancel_undo_until = None
        locked.status_before_cancel = ""
        locked.cancel_reason = ""
        try:
            with slot_write():
                locked.save(update_fields=["status", "cancel_undo_until", "status_before_cancel", "cancel_reason"])
        except SlotWriteRefused:
            raise CancelNotUndone(
                "That time has been booked for someone else since the cancellation: book a new time instead."
            ) from None
        notifications_held_drop(request=locked.request, kind=Notification.Kind.BOOKING_CANCELLED_BY_CLINIC)
        _history(locked, actor=user, before="Cancelled by the clinic", after=f"{_label(locked)}: cancellation undone")
    logger.info("cancellation of appointment %s undone by user %s", locked.pk, user.pk)
    return locked


def appointment_cancellations_release(*, now: dt.datetime | None = None) -> int:
    """The beat job: every clinic cancellation whose undo grace has passed sends its held e-mail and offers the
    freed time to the waitlist, each in its own transaction, exactly once (the row is locked and its grace
    cleared in that transaction). Returns how many were released."""
    now = now or timezone.now()
    due = list(
        Appointment.objects.filter(
            status=Appointment.Status.CANCELLED, cancel_undo_until__isnull=False, cancel_undo_until__lte=now
        ).values_list("pk", flat=True)
    )
    released = 0
    for pk in due:
        with transaction.atomic():
            locked = (
                Appointment.objects.select_for_update(skip_locked=True)
                .select_related("request")
                .filter(pk=pk, status=Appointment.Status.CANCELLED, cancel_undo_until__lte=now)
                .first()
            )
            if locked is None:
                continue  # undone, or another run has it
            locked.cancel_undo_until = None
            locked.save(update_fields=["cancel_undo_until"])
            notifications_release_held(request=locked.request, kind=Notification.Kind.BOOKING_CANCELLED_BY_CLINIC)
            slot_freed_announce(
                practitioner_id=locked.practitioner_id, starts_at=locked.starts_at, ends_at=locked.ends_at
            )
            released += 1
    if released:
        logger.info("released %s cancellation(s) after their undo time", released)
    return released
