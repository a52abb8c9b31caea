"""Asking the safety questions of a request that was never screened (`callbacks.rules.screening`): a phone booking
that skipped them, a waitlist booking, an older request. Staff ask them on the phone or at the desk and type the
answers in; the request is triaged as if the patient had answered them online."""

import logging
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from callbacks.models import CallbackRequest, Priority, RequestEvent
from callbacks.notifications.outbox import notifications_enqueue_on_commit, notifications_for_priority_raised
from callbacks.requests.services import callback_request_priority_raise
from callbacks.requests.workflow import callback_request_red_flag_reopen, moment_label, request_event_record
from callbacks.rules.requests import priority_is_urgent
from callbacks.rules.screening import request_screened
from intake.selectors import Definition, questionnaire_response_staff_priority
from intake.services import questionnaire_response_create

logger = logging.getLogger(__name__)


def callback_request_priority_raise_recorded(
    *, request: CallbackRequest, priority: int, actor: AbstractBaseUser, action: str, at
) -> bool:
    """Raise a locked request's priority (never lower it: `callback_request_priority_raise`) and write the rise,
    and the deadline it moved, into the request's history as ``action`` by ``actor``. Returns whether it rose."""
    before_priority, before_deadline = request.priority, request.deadline
    if not callback_request_priority_raise(request=request, priority=priority):
        return False
    changes = [("priority", Priority(before_priority).label, Priority(priority).label)]
    if request.deadline != before_deadline:
        changes.append(("deadline", moment_label(before_deadline), moment_label(request.deadline)))
    for field, before, after in changes:
        request_event_record(
            request=request, actor=actor, action=action, at=at, field=field, before=before, after=after
        )
    return True


@transaction.atomic
def callback_request_screen(
    *, request: CallbackRequest, definition: Definition, answers: Mapping[str, Any], actor: AbstractBaseUser
) -> CallbackRequest:
    """Store the safety answers ``actor`` asked for on an unscreened request and re-triage it, in one transaction.

    Guarantees: the answers become the request's answer set (naming the definition's version), so the request
    counts as screened from then on; its priority can rise, never fall, with the deadline the new priority has
    (as for the patients' own later answers); an emergency or urgent result puts a booked or contacted request
    back among those awaiting a response and tells staff like a new request of that priority; the history says
    who asked and what the priority became. Raises ValidationError (nothing stored) when the request was
    screened meanwhile or is closed, and `intake.services.AnswersInvalid` when the answers do not fit.
    """
    locked = CallbackRequest.objects.select_for_update().get(pk=request.pk)
    if request_screened(locked):
        raise ValidationError("The safety questions of this request were answered already.", code="screened")
    if locked.status == CallbackRequest.Status.CLOSED:
        raise ValidationError("This request is closed. Reopen it before you ask the safety questions.", code="closed")
    # The request's own words are read for red flags with the answers, as when a patient sends them online.
    response = questionnaire_response_create(
        definition=definition, answers=answers, complete=False, other_text={"reason": locked.reason}
    )
    locked.questionnaire_response = response
    locked.save(update_fields=["questionnaire_response", "updated_at"])
    now = timezone.now()
    priority = Priority(questionnaire_response_staff_priority(response=response))
    request_event_record(
        request=locked,
        actor=actor,
        action=RequestEvent.Action.EDITED,
        at=now,
        field="screening",
        before="Not screened",
        after=f"Safety questions asked by staff: {priority.label}",
    )
    callback_request_priority_raise_recorded(
        request=locked, priority=priority, actor=actor, action=RequestEvent.Action.EDITED, at=now
    )
    if priority_is_urgent(priority):
        callback_request_red_flag_reopen(request=locked, actor=actor)
        notifications_enqueue_on_commit(notifications_for_priority_raised(locked))
    logger.info("callback request %s screened by user %s (priority %s)", locked.reference, actor.pk, priority)
    locked.refresh_from_db()
    return locked
