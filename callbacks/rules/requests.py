"""What a request can be and how it moves: priorities, statuses, outcomes, transitions.

The choices are declared here, below the models, so that the models' querysets and properties can call the
rules instead of repeating them (`callbacks.models` exposes them under their usual names, such as
``CallbackRequest.Status``).
"""

from django.core.exceptions import ValidationError
from django.db import models


class Priority(models.IntegerChoices):
    """Lower sorts first: the queue is ordered by priority, then deadline."""

    EMERGENCY = 1, "Emergency"
    URGENT = 2, "Urgent"
    REVIEW = 3, "Clinician review"
    ROUTINE = 4, "Routine"


class RequestStatus(models.TextChoices):
    NEW = "new", "New"
    IN_PROGRESS = "in_progress", "In progress"
    CONTACTED = "contacted", "Contacted"
    BOOKED = "booked", "Booked"
    CLOSED = "closed", "Closed"


class RequestOutcome(models.TextChoices):
    """Why a request was closed; only a closed request has one."""

    APPOINTMENT = "appointment", "Appointment booked"
    ADVICE = "advice", "Advice given by phone"
    REFERRED = "referred", "Referred elsewhere (GP, urgent care, A&E)"
    DECLINED = "declined", "No longer needed / declined"
    UNREACHABLE = "unreachable", "Could not reach the patient"
    WRONG_NUMBER = "wrong_number", "Wrong number"
    DUPLICATE = "duplicate", "Duplicate request"


class CallOutcome(models.TextChoices):
    NO_ANSWER = "no_answer", "No answer"
    VOICEMAIL = "voicemail", "Left a voicemail"
    REACHED = "reached", "Reached the patient"
    WRONG_NUMBER = "wrong_number", "Wrong number"


# Emergency and urgent requests go to the urgent address (and webhook), count as "urgent" on the admin home, and
# flag a booking for a clinician's look before it is confirmed.
URGENT_PRIORITIES = frozenset({Priority.EMERGENCY, Priority.URGENT})

# Nobody has reached the patient yet: the response deadline's clock runs, and the request can be overdue.
AWAITING_RESPONSE_STATUSES = (RequestStatus.NEW, RequestStatus.IN_PROGRESS)

# Finished, for the patient's answers: the clinic has spoken with the patient or closed the request, so the answers
# are what staff read and acted on. The patient's links then show what was sent and take no change (a change is
# a phone call); before that a correction is stored as a new version beside the old one (`intake.services`).
# "Booked" still takes answers: the patient prepares for the appointment.
ANSWERS_FINISHED_STATUSES = (RequestStatus.CONTACTED, RequestStatus.CLOSED)

# Which status may follow which. "New" is never returned to: it means nobody has touched the request yet.
# A closed request can be reopened (a patient calls back, a wrong outcome was chosen); that clears its outcome.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    RequestStatus.NEW: frozenset(
        {RequestStatus.IN_PROGRESS, RequestStatus.CONTACTED, RequestStatus.BOOKED, RequestStatus.CLOSED}
    ),
    RequestStatus.IN_PROGRESS: frozenset({RequestStatus.CONTACTED, RequestStatus.BOOKED, RequestStatus.CLOSED}),
    RequestStatus.CONTACTED: frozenset({RequestStatus.IN_PROGRESS, RequestStatus.BOOKED, RequestStatus.CLOSED}),
    RequestStatus.BOOKED: frozenset({RequestStatus.CONTACTED, RequestStatus.CLOSED}),
    RequestStatus.CLOSED: frozenset({RequestStatus.IN_PROGRESS}),
}

# After a call attempt the request moves on by itself where the next step is obvious.
STATUS_AFTER_CALL: dict[str, dict[str, str]] = {
    CallOutcome.REACHED: {
        RequestStatus.NEW: RequestStatus.CONTACTED,
        RequestStatus.IN_PROGRESS: RequestStatus.CONTACTED,
    },
    CallOutcome.NO_ANSWER: {RequestStatus.NEW: RequestStatus.IN_PROGRESS},
    CallOutcome.VOICEMAIL: {RequestStatus.NEW: RequestStatus.IN_PROGRESS},
    CallOutcome.WRONG_NUMBER: {RequestStatus.NEW: RequestStatus.IN_PROGRESS},
}


def priority_is_urgent(priority: int) -> bool:
    return priority in URGENT_PRIORITIES


def status_awaits_response(status: str) -> bool:
    return status in AWAITING_RESPONSE_STATUSES


def status_takes_answers(status: str) -> bool:
    """Whether a patient's link may still add or correct answers on a request in this status."""
    return status not in ANSWERS_FINISHED_STATUSES


def status_label(value: str) -> str:
    return RequestStatus(value).label if value else ""


def status_transition_check(*, current: str, target: str) -> None:
    """Raise ValidationError, in words staff understand, if ``current`` may not become ``target``."""
    if target not in RequestStatus.values:
        raise ValidationError(f"“{target}” is not a status.", code="unknown_status")
    if current == target:
        raise ValidationError(f"The request is already “{status_label(current)}”.", code="same_status")
    allowed = ALLOWED_TRANSITIONS[current]
    if target not in allowed:
        choices = ", ".join(f"“{status_label(s)}”" for s in RequestStatus.values if s in allowed)
        raise ValidationError(
            f"A request that is “{status_label(current)}” cannot be set to “{status_label(target)}”. "
            f"From here it can go to {choices}.",
            code="invalid_transition",
        )


def status_outcome_check(*, status: str, outcome: str) -> None:
    """Closing needs an outcome, and only closing takes one. Raises ValidationError (about the outcome)."""
    if status == RequestStatus.CLOSED:
        if not outcome:
            raise ValidationError("Choose an outcome to close the request.", code="outcome_required")
        if outcome not in RequestOutcome.values:
            raise ValidationError(f"“{outcome}” is not an outcome.", code="unknown_outcome")
    elif outcome:
        raise ValidationError(
            "An outcome is recorded only when the request is closed: leave it empty unless you are closing it.",
            code="outcome_not_closing",
        )
