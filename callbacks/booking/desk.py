"""What the front desk does to appointments: book for a caller, move one to another free slot, cancel one.

Booking for a caller is the patients' own booking (`appointment_book`: the same free slots, the same database
guarantee against double booking), with the consent told by phone recorded as such. Moving and cancelling
lock the appointment, let the database decide whether the new time is free, and write the change into the
request's history in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from callbacks.booking.calendar import appointment_calendar_change
from callbacks.booking.events import slot_freed_announce
from callbacks.booking.reschedule import appointment_movable
from callbacks.booking.services import appointment_book, appointment_confirm, appointment_reminder_reset
from callbacks.booking.slots import OVERLAP_CONSTRAINT, SlotTaken, slot_offered, slots_nearest
from callbacks.models import Appointment, ConsentMethod, Notification, RequestEvent, Service
from callbacks.notifications.outbox import notification_queue_once, notifications_for_appointment_moved
from callbacks.requests.consent import CURRENT_CONSENT_VERSION
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

    Raises `SlotTaken` with the nearest free alternatives when the new slot is not offered or is held by
    someone else (the database decides); raises `ValueError` when the appointment cannot be moved (not
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
        slot = slot_offered(service=locked.service, practitioner_id=practitioner_id, starts_at=starts_at, now=now)
        if slot is None:
            raise SlotTaken(alternatives=slots_nearest(service=locked.service, around=starts_at, now=now))
        before = _label(locked)
        freed = (locked.practitioner_id, locked.starts_at, locked.ends_at)
        locked.practitioner_id, locked.starts_at, locked.ends_at = slot.practitioner_id, slot.starts_at, slot.ends_at
        locked.revision += 1
        try:
            with transaction.atomic():
                locked.save(update_fields=["practitioner", "starts_at", "ends_at", "revision"])
        except IntegrityError as exc:
            if OVERLAP_CONSTRAINT not in str(exc):
                raise
            logger.info("move of appointment %s refused: the slot is held", locked.pk)
            raise SlotTaken(alternatives=slots_nearest(service=locked.service, around=starts_at, now=now)) from None
        request = locked.request
        request.window_start, request.window_end = slot.starts_at, slot.ends_at
        request.save(update_fields=["window_start", "window_end", "updated_at"])
        locked.practitioner.name = slot.practitioner_name
        _history(locked, actor=user, before=before, after=_label(locked))
        notifications_for_appointment_moved(
            request, by_patient=False, calendar_sequence=appointment_calendar_change(locked)
        )
        appointment_reminder_reset(locked)
        slot_freed_announce(practitioner_id=freed[0], starts_at=freed[1], ends_at=freed[2])
    logger.info("appointment %s moved by user %s", locked.pk, user.pk)
    return locked


@transaction.atomic
def appointment_cancel_by_clinic(*, appointment: Appointment, user: AbstractBaseUser) -> bool:
    """The clinic cancels a requested or confirmed appointment that has not started: the time is free again,
    the request's history says who cancelled it, and the patient is e-mailed once (if they gave an address).

    False, changing nothing, when there is nothing to cancel.
    """
    locked = Appointment.objects.select_for_update().select_related("request", "practitioner").get(pk=appointment.pk)
    if not appointment_status_holds_time(locked.status) or locked.starts_at <= timezone.now():
        return False
    before = f"{_label(locked)} ({locked.get_status_display()})"
    locked.status = Appointment.Status.CANCELLED
    locked.save(update_fields=["status"])
    slot_freed_announce(practitioner_id=locked.practitioner_id, starts_at=locked.starts_at, ends_at=locked.ends_at)
    _history(locked, actor=user, before=before, after="Cancelled by the clinic")
    notification_queue_once(
        request=locked.request,
        kind=Notification.Kind.BOOKING_CANCELLED_BY_CLINIC,
        calendar_sequence=appointment_calendar_change(locked),
    )
    logger.info("appointment %s cancelled by user %s", locked.pk, user.pk)
    return True
