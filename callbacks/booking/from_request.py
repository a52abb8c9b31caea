"""Booking an appointment for a request already in the queue: the appointment joins THAT request (no second
request, so one set of follow-ups), which becomes a booking whose status and deadline follow as for any booking.

Which requests can take one (`request_bookable`): not closed, and holding no appointment yet (a request holds at
most one). For any other, the front desk books a new request with the same details, which the matching rule
links to the same patient.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from callbacks.booking.services import appointment_confirm
from callbacks.booking.slots import (
    SlotNotOffered,
    SlotTaken,
    SlotWriteRefused,
    slot_offered,
    slot_refusal_reason,
    slot_write,
    slots_nearest,
)
from callbacks.models import Appointment, CallbackRequest, RequestEvent, Service
from callbacks.requests.screening import callback_request_screen
from callbacks.requests.workflow import moment_label
from callbacks.rules.deadline import promised_deadline
from intake.services import QuestionnaireAnswers

logger = logging.getLogger(__name__)


class RequestNotBookable(Exception):
    """The request is closed or already holds an appointment; nothing was saved."""


def request_bookable(request: CallbackRequest) -> bool:
    """Whether an appointment can be booked onto this request itself (see above)."""
    return request.status != CallbackRequest.Status.CLOSED and not Appointment.objects.filter(request=request).exists()


class _Clash(Exception):
    pass


def _history(request: CallbackRequest, actor, now, field: str, before: str, after: str) -> None:
    RequestEvent.objects.create(
        request=request, actor=actor, at=now, action=RequestEvent.Action.EDITED, field=field, before=before, after=after
    )


def appointment_book_for_request(
    *,
    request: CallbackRequest,
    service: Service,
    practitioner_id: int,
    starts_at: dt.datetime,
    staff: AbstractBaseUser,
    questionnaire: QuestionnaireAnswers | None = None,
    confirm: bool = False,
) -> Appointment:
    """Book a free slot onto ``request``: one transaction holds the slot (the database decides, as for every
    booking), makes the request a booking whose time is the appointment and whose deadline is the earlier of its
    own and the appointment's start (`promised_deadline`, as a new booking's), and writes each change into its
    history. ``questionnaire`` (the safety questions asked on the phone) is stored with the request only when it
    has no answers yet, as `callback_request_screen` stores them: its priority can rise, never fall, and an urgent
    or emergency result tells staff.

    With ``confirm`` the appointment is confirmed at once unless triage flagged it (`appointment_confirm`: the
    request becomes "Booked", the patient is told; follow-ups wait for the first attended visit).

    Raises `SlotNotOffered` (saying why) when the slot is not offered and `SlotTaken` (with alternatives) when it
    is held; `RequestNotBookable` when the request is closed or holds an appointment;
    `intake.services.AnswersInvalid` for answers that do not fit. Nothing is saved then.
    """
    slot = slot_offered(service=service, practitioner_id=practitioner_id, starts_at=starts_at, by_staff=True)
    if slot is None or not service.active:
        raise SlotNotOffered(
            alternatives=slots_nearest(service=service, around=starts_at, by_staff=True),
            reason=slot_refusal_reason(service=service, starts_at=starts_at, by_staff=True),
        )
    now = timezone.now()
    try:
        with transaction.atomic():
            locked = CallbackRequest.objects.select_for_update().get(pk=request.pk)
            if not request_bookable(locked):
                raise RequestNotBookable(locked.reference)
            if questionnaire is not None and locked.questionnaire_response_id is None:
                # As staff asking the safety questions on the request's page: the history, a raised priority's
                # new deadline, and an urgent or emergency result back among those awaiting a call, staff told.
                locked = callback_request_screen(
                    request=locked, definition=questionnaire.definition, answers=questionnaire.answers, actor=staff
                )
            try:
                with slot_write():
                    appointment = Appointment.objects.create(
                        practitioner_id=slot.practitioner_id,
                        service=service,
                        starts_at=slot.starts_at,
                        ends_at=slot.ends_at,
                        request=locked,
                    )
            except SlotWriteRefused as exc:
                raise _Clash from exc
            before_kind, before_deadline = locked.get_kind_display(), locked.deadline
            locked.kind = CallbackRequest.Kind.BOOKING
            # A booking's "window" is the appointment itself: the queue shows when it is.
            locked.window_start, locked.window_end = slot.starts_at, slot.ends_at
            locked.deadline = promised_deadline(
                priority=locked.priority,
                booking=True,
                window_start=slot.starts_at,
                window_end=slot.ends_at,
                by_priority=locked.deadline or slot.starts_at,
            )
            locked.save(update_fields=["kind", "window_start", "window_end", "deadline", "updated_at"])
            label = f"{appointment.service.name}, {moment_label(slot.starts_at)} with {slot.practitioner_name}"
            _history(locked, staff, now, "appointment", "", label)
            if before_kind != locked.get_kind_display():
                _history(locked, staff, now, "kind", before_kind, locked.get_kind_display())
            if before_deadline != locked.deadline:
                _history(locked, staff, now, "deadline", moment_label(before_deadline), moment_label(locked.deadline))
    except _Clash:
        logger.info("slot %s already held; booking for a request refused", slot.key)
        raise SlotTaken(alternatives=slots_nearest(service=service, around=starts_at, by_staff=True)) from None
    logger.info("appointment %s booked onto request %s by user %s", appointment.pk, locked.reference, staff.pk)
    if confirm and not appointment.flagged:
        appointment_confirm(appointment=appointment, user=staff)
        appointment.refresh_from_db()
    return appointment
