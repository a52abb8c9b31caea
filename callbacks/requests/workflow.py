"""The staff workflow on a callback request: assignment, status, call attempts, scheduling, notes, priority.

Every function here changes a request on behalf of a member of staff and records what it did as
`RequestEvent` rows (who, when, which field, value before and after) in the same transaction as the change,
so the history can never disagree with the request. The request row is locked while it changes: two staff
acting on the same request at once are applied one after the other, each against the other's result.

A change the workflow does not allow raises `ValidationError` with a message meant for staff; nothing is
saved then.
"""

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from callbacks.models import CallAttempt, CallbackRequest, Priority, RequestEvent, StaffNote
from callbacks.requests.closures import request_response_deadline
from callbacks.rules.requests import (
    STATUS_AFTER_CALL,
    status_awaits_response,
    status_label,
    status_outcome_check,
    status_transition_check,
)
from callbacks.rules.staff import staff_display_name
from clinic.hours import clinic_zone

Status = CallbackRequest.Status

EMPTY = ""


def _staff_label(user: AbstractBaseUser | None) -> str:
    return staff_display_name(user, with_username=True)


def moment_label(value: dt.datetime | None) -> str:
    """A time as staff read it: in the clinic's time zone, with the zone's name."""
    if value is None:
        return EMPTY
    local = timezone.localtime(value, clinic_zone())
    return f"{date_format(local, 'D j M Y, H:i')} ({local.tzname()})"


def _locked(request: CallbackRequest) -> CallbackRequest:
    return CallbackRequest.objects.select_for_update().get(pk=request.pk)


def request_event_record(
    *,
    request: CallbackRequest,
    actor: AbstractBaseUser,
    action: str,
    at: dt.datetime,
    field: str = "",
    before: Any = EMPTY,
    after: Any = EMPTY,
) -> RequestEvent:
    """One row of the request's history; call it in the transaction of the change it records."""
    return RequestEvent.objects.create(
        request=request, actor=actor, at=at, action=action, field=field, before=str(before), after=str(after)
    )


def _field_set(
    locked: CallbackRequest, *, field: str, value: Any, actor: AbstractBaseUser, action: str, label: Callable
) -> None:
    """Change one field of the locked request and record the change, before and after, as staff read them."""
    before = getattr(locked, field)
    setattr(locked, field, value)
    locked.save(update_fields=[field, "updated_at"])
    request_event_record(
        request=locked,
        actor=actor,
        action=action,
        at=timezone.now(),
        field=field,
        before=label(before),
        after=label(value),
    )


def _planned_call_drop(locked: CallbackRequest, *, actor: AbstractBaseUser, at: dt.datetime) -> bool:
    """Forget the planned next call, with its history event; the caller saves. False if none was planned."""
    if not locked.next_attempt_at:
        return False
    request_event_record(
        request=locked,
        actor=actor,
        action=RequestEvent.Action.SCHEDULED,
        at=at,
        field="next_attempt_at",
        before=moment_label(locked.next_attempt_at),
        after=EMPTY,
    )
    locked.next_attempt_at = None
    return True


def _refuse_if_closed(request: CallbackRequest, doing: str) -> None:
    if request.status == Status.CLOSED:
        raise ValidationError(f"This request is closed. Reopen it before you {doing}.", code="closed")


@transaction.atomic
def callback_request_assign(
    *, request: CallbackRequest, user: AbstractBaseUser | None, actor: AbstractBaseUser
) -> CallbackRequest:
    """Make ``user`` responsible for the request (``None`` releases it). Records one event when it changes.

    Assigning to the person already assigned does nothing. Only active staff accounts can be assigned, and
    a closed request is not assigned to anyone new.
    """
    locked = _locked(request)
    if user is not None and not (user.is_active and user.is_staff):
        raise ValidationError("Requests can be assigned to active staff accounts only.", code="not_staff")
    if (user.pk if user else None) == locked.assigned_to_id:
        return locked
    if user is not None:
        _refuse_if_closed(locked, "assign it")
    _field_set(
        locked, field="assigned_to", value=user, actor=actor, action=RequestEvent.Action.ASSIGNED, label=_staff_label
    )
    request.assigned_to = user
    return locked


def contacted_check(*, request: CallbackRequest, reason: str) -> None:
    """ "Contacted" means someone spoke to the patient: a call logged as reached, or a reason given by staff
    (the patient rang in, came to the desk, answered by e-mail). Raises ValidationError otherwise."""
    if reason.strip():
        return
    if not CallAttempt.objects.filter(request=request, outcome=CallAttempt.Outcome.REACHED).exists():
        raise ValidationError(
            "“Contacted” means someone spoke to the patient. Log a call that reached them, or say how they "
            "were contacted (for example: they rang us).",
            code="contact_not_logged",
        )


@transaction.atomic
def callback_request_status_change(
    *, request: CallbackRequest, status: str, actor: AbstractBaseUser, outcome: str = "", reason: str = ""
) -> CallbackRequest:
    """Move the request to ``status`` if the workflow allows it, with one event per changed field.

    Closing needs an ``outcome`` (one of `CallbackRequest.Outcome`) and stamps ``closed_at``; an outcome is
    refused for any other status. Reopening a closed request clears its outcome and closing time. "Contacted"
    needs a call logged as reached or a ``reason`` (kept as a note on the request, in the same transaction).
    """
    locked = _locked(request)
    status_transition_check(current=locked.status, target=status)
    status_outcome_check(status=status, outcome=outcome)
    if status == Status.CONTACTED:
        contacted_check(request=locked, reason=reason)
    now = timezone.now()
    if status == Status.CONTACTED and reason.strip():
        staff_note_add(request=locked, text=f"Contacted without a logged call: {reason.strip()}", actor=actor)
    return _apply_status(locked, request, status=status, outcome=outcome, actor=actor, now=now)


def callback_request_red_flag_reopen(*, request: CallbackRequest, actor: AbstractBaseUser) -> bool:
    """A red flag reported after staff had answered the request (booked, contacted or closed): it goes back to
    the queue (`callback_request_queue_return`). The appointment, if any, stays: staff decide what becomes of it."""
    return callback_request_queue_return(request=request, actor=actor)


def callback_request_queue_return(*, request: CallbackRequest, actor: AbstractBaseUser) -> bool:
    """Put a request staff had answered (booked, contacted or closed) back in the queue for a call: it goes back
    to "in progress", so it awaits a response again, shows in the queue and runs to a deadline counted from now
    for its priority (`request_response_deadline`, skipping closed days). Returns whether it moved; a request
    already awaiting a response keeps its deadline. The system does this (a red flag in a later answer, a patient
    who did not attend), not staff, so it is not one of the staff's transitions (staff cannot move a booked
    request back); the history records both changes under ``actor``."""
    locked = _locked(request)
    if status_awaits_response(locked.status):
        return False
    now = timezone.now()
    before_deadline = locked.deadline
    locked.deadline = request_response_deadline(priority=locked.priority, received_at=now)
    request.deadline = locked.deadline
    # One UPDATE: the new deadline is saved with the status.
    _apply_status(locked, request, status=Status.IN_PROGRESS, outcome="", actor=actor, now=now, also=("deadline",))
    if before_deadline != locked.deadline:
        request_event_record(
            request=locked,
            actor=actor,
            action=RequestEvent.Action.STATUS,
            at=now,
            field="deadline",
            before=moment_label(before_deadline),
            after=moment_label(locked.deadline),
        )
    return True


def _apply_status(
    locked: CallbackRequest,
    request: CallbackRequest,
    *,
    status: str,
    outcome: str,
    actor: AbstractBaseUser,
    now: dt.datetime,
    also: tuple[str, ...] = (),
) -> CallbackRequest:
    """Set the status and outcome of the locked request and save them, with the fields named in ``also`` that the
    caller changed on ``locked``, in one UPDATE; record the changes in the history."""
    before_status, before_outcome = locked.status, locked.outcome
    locked.status = status
    locked.outcome = outcome
    locked.closed_at = now if status == Status.CLOSED else None
    changed = ["status", "outcome", "closed_at", "updated_at", *also]
    # Nobody will make a planned call on a closed request.
    if status == Status.CLOSED and _planned_call_drop(locked, actor=actor, at=now):
        changed.append("next_attempt_at")
    if status == Status.CONTACTED and locked.first_contact_at is None:
        locked.first_contact_at = now
        changed.append("first_contact_at")
    locked.save(update_fields=changed)
    request_event_record(
        request=locked,
        actor=actor,
        action=RequestEvent.Action.STATUS,
        at=now,
        field="status",
        before=status_label(before_status),
        after=status_label(status),
    )
    if before_outcome != outcome:
        request_event_record(
            request=locked,
            actor=actor,
            action=RequestEvent.Action.STATUS,
            at=now,
            field="outcome",
            before=CallbackRequest.Outcome(before_outcome).label if before_outcome else EMPTY,
            after=CallbackRequest.Outcome(outcome).label if outcome else EMPTY,
        )
    for field in ("status", "outcome", "closed_at", "next_attempt_at", "first_contact_at"):
        setattr(request, field, getattr(locked, field))
    # The outcome follow-ups are not started here: they are timed from the first attended visit
    # (`callbacks.booking.attendance`), so nobody is asked how the treatment went before being seen.
    return locked


@transaction.atomic
def call_attempt_log(
    *,
    request: CallbackRequest,
    actor: AbstractBaseUser,
    outcome: str,
    note: str = "",
    made_at: dt.datetime | None = None,
) -> CallAttempt:
    """Record a phone call to the patient, made by ``actor`` at ``made_at`` (default: now).

    A call that reached the patient marks a new or in-progress request "Contacted"; any other outcome marks a
    new request "In progress". A pending next attempt is cleared: this call was it. The request counts the call
    and remembers who logged it and when (the queue's attempts and "being called by"), and an unassigned request
    is assigned to the caller, with its history line. Calls on closed requests and calls in the future are
    refused.
    """
    now = timezone.now()
    made_at = made_at or now
    locked = _locked(request)
    _refuse_if_closed(locked, "log a call")
    if outcome not in CallAttempt.Outcome.values:
        raise ValidationError("Choose how the call went.", code="unknown_call_outcome")
    if made_at > now + dt.timedelta(minutes=1):
        raise ValidationError("A call cannot be logged in the future.", code="call_in_future")
    if made_at < locked.created_at:
        raise ValidationError("The call is dated before the request arrived.", code="call_before_request")
    note = note.strip()
    attempt = CallAttempt.objects.create(request=locked, made_by=actor, made_at=made_at, outcome=outcome, note=note)
    request_event_record(
        request=locked,
        actor=actor,
        action=RequestEvent.Action.CALL,
        at=now,
        field="call_attempt",
        after=f"{attempt.get_outcome_display()} at {moment_label(made_at)}" + (f": {note}" if note else ""),
    )
    counted = ["calls_logged", "last_call_at", "last_call_by", "updated_at"]
    if _planned_call_drop(locked, actor=actor, at=now):
        counted.append("next_attempt_at")
    if outcome == CallAttempt.Outcome.REACHED and (
        locked.first_contact_at is None or made_at < locked.first_contact_at
    ):
        # The call's own time, not now: a call logged afterwards still counts from when it was made.
        locked.first_contact_at = made_at
        counted.append("first_contact_at")
    locked.calls_logged += 1
    locked.last_call_at, locked.last_call_by = now, actor
    locked.save(update_fields=counted)
    for field in ("next_attempt_at", "calls_logged", "last_call_at", "last_call_by", "first_contact_at"):
        setattr(request, field, getattr(locked, field))
    if locked.assigned_to_id is None and actor.is_active and actor.is_staff:
        # Whoever rings the patient takes the request, so that nobody else rings them too.
        _field_set(
            locked,
            field="assigned_to",
            value=actor,
            actor=actor,
            action=RequestEvent.Action.ASSIGNED,
            label=_staff_label,
        )
        request.assigned_to = actor
    next_status = STATUS_AFTER_CALL[outcome].get(locked.status)
    if next_status:
        _apply_status(locked, request, status=next_status, outcome="", actor=actor, now=now)
    return attempt


@transaction.atomic
def callback_request_schedule_next_attempt(
    *, request: CallbackRequest, at: dt.datetime | None, actor: AbstractBaseUser
) -> CallbackRequest:
    """Plan the next call for ``at`` (``None`` clears the plan). The time must be in the future."""
    locked = _locked(request)
    if at is not None:
        _refuse_if_closed(locked, "schedule a call")
        if at <= timezone.now():
            raise ValidationError("Choose a time in the future for the next call.", code="schedule_in_past")
    if at == locked.next_attempt_at:
        return locked
    _field_set(
        locked, field="next_attempt_at", value=at, actor=actor, action=RequestEvent.Action.SCHEDULED, label=moment_label
    )
    request.next_attempt_at = at
    return locked


@transaction.atomic
def staff_note_add(*, request: CallbackRequest, text: str, actor: AbstractBaseUser) -> StaffNote:
    """Add an internal note. Notes are never changed or deleted; a correction is another note."""
    text = text.strip()
    if not text:
        raise ValidationError("Write the note before adding it.", code="note_empty")
    max_length = StaffNote._meta.get_field("text").max_length
    if len(text) > max_length:
        raise ValidationError(f"A note can be at most {max_length} characters.", code="note_too_long")
    locked = _locked(request)
    now = timezone.now()
    note = StaffNote.objects.create(request=locked, author=actor, created_at=now, text=text)
    request_event_record(request=locked, actor=actor, action=RequestEvent.Action.NOTE, at=now, field="note", after=text)
    return note


@transaction.atomic
def callback_request_priority_change(
    *, request: CallbackRequest, priority: int, actor: AbstractBaseUser
) -> CallbackRequest:
    """Re-triage: set a new priority and the response deadline that priority has, counted from arrival.

    For a clinician who has read the answers; the questionnaire's own tier stays as it was computed.
    """
    if priority not in Priority.values:
        raise ValidationError("Choose a priority.", code="unknown_priority")
    locked = _locked(request)
    _refuse_if_closed(locked, "change its priority")
    if locked.priority == priority:
        raise ValidationError(f"The priority is already “{Priority(priority).label}”.", code="same_priority")
    now = timezone.now()
    before_priority, before_deadline = locked.priority, locked.deadline
    locked.priority = priority
    locked.deadline = request_response_deadline(priority=priority, received_at=locked.created_at)
    locked.save(update_fields=["priority", "deadline", "updated_at"])
    for field, before, after in (
        ("priority", Priority(before_priority).label, Priority(priority).label),
        ("deadline", moment_label(before_deadline), moment_label(locked.deadline)),
    ):
        request_event_record(
            request=locked,
            actor=actor,
            action=RequestEvent.Action.EDITED,
            at=now,
            field=field,
            before=before,
            after=after,
        )
    request.priority, request.deadline = locked.priority, locked.deadline
    return locked
