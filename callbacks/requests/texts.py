"""A text from the patient read for red flags, like any text the patient writes.

The text is screened by intake against the request's own questionnaire (its definition's lexicon, with the
answers given so far), as the request's reason is. Nobody can ask the patient a safety question again inside a
text, so a finding counts for staff at the tier of the safety question it points at: "I've lost control of my
bladder" makes the request an emergency. Staff are then told as when later answers raise a priority, and a
request already booked, contacted or closed goes back among those awaiting a response.
"""

import logging

from django.db import transaction
from django.utils import timezone

from callbacks.models import CallbackRequest, Priority, RequestEvent
from callbacks.notifications.outbox import notifications_enqueue_on_commit, notifications_for_priority_raised
from callbacks.requests.actors import patient_link_actor
from callbacks.requests.services import callback_request_priority_raise
from callbacks.requests.workflow import (
    callback_request_red_flag_reopen,
    moment_label,
    request_event_record,
)
from callbacks.rules.requests import priority_is_urgent
from intake.selectors import MESSAGE_PREFIX, questionnaire_response_message_priority
from intake.services import questionnaire_response_step_save

logger = logging.getLogger(__name__)


def text_message_key(text_id: int) -> str:
    """How a text from the patient is named among the texts intake screens (and in the reasons staff read)."""
    return f"{MESSAGE_PREFIX}{text_id}"


@transaction.atomic
def callback_request_text_screen(*, request_id: int, text_id: int, body: str) -> int | None:
    """Read the patient's text ``body`` (stored as ``text_id``) for red flags on the request ``request_id``.

    Returns the staff priority its red flags call for, or None when it has none (or the request has no
    questionnaire to screen against). On a red flag, in one transaction: the finding is kept in the request's
    triage reasons, the priority rises to it (never falls; the deadline follows), a request staff had answered
    goes back to "in progress", the history says so, and staff are told after commit (even when the request was
    already urgent: this is news)."""
    request = CallbackRequest.objects.select_for_update().get(pk=request_id)
    if request.questionnaire_response_id is None:
        return None
    key = text_message_key(text_id)
    saved = questionnaire_response_step_save(
        response_id=request.questionnaire_response_id,
        step=None,
        other_text={"reason": request.reason},
        messages={key: body},
    )
    found = questionnaire_response_message_priority(response=saved.response, key=key)
    if found is None or not priority_is_urgent(found):
        return found
    priority = Priority(found)
    actor = patient_link_actor()
    before_priority, before_deadline = request.priority, request.deadline
    if callback_request_priority_raise(request=request, priority=priority):
        now = timezone.now()
        request_event_record(
            request=request,
            actor=actor,
            action=RequestEvent.Action.STATUS,
            at=now,
            field="priority",
            before=Priority(before_priority).label,
            after=priority.label,
        )
        if request.deadline != before_deadline:
            request_event_record(
                request=request,
                actor=actor,
                action=RequestEvent.Action.STATUS,
                at=now,
                field="deadline",
                before=moment_label(before_deadline),
                after=moment_label(request.deadline),
            )
    callback_request_red_flag_reopen(request=request, actor=actor)
    notifications_enqueue_on_commit(notifications_for_priority_raised(request))
    logger.info("callback request %s: text %s calls for priority %s", request.reference, text_id, priority)
    return priority
