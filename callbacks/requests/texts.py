"""A text from the patient read for red flags, like any text the patient writes.

The text is screened by intake against the request's own questionnaire (its definition's lexicon, with the
answers given so far), as the request's reason is; a request with no answer set (taken by phone without the
safety questions, booked from the waitlist, not screened) has it read against the current back-pain definition's
lexicon alone, and a text from a number no request has is read the same way and, on a red flag, alerts the urgent
address at once. Either way the patient is texted back, at once, what to do now (the emergency or urgent advice
the screen would have shown them). Nobody can ask the patient a safety question again inside a
text, so a finding counts for staff at the tier of the safety question it points at: "I've lost control of my
bladder" makes the request an emergency. Staff are then told as when later answers raise a priority, and a
request already booked, contacted or closed goes back among those awaiting a response.
"""

import logging

from django.db import transaction
from django.utils import timezone

from callbacks.models import CallbackRequest, InboundText, Priority, RequestEvent
from callbacks.notifications.outbox import notifications_enqueue_on_commit, notifications_for_priority_raised
from callbacks.notifications.text_answers import notification_for_text_advice, notification_for_text_red_flag
from callbacks.requests.actors import patient_link_actor
from callbacks.requests.screening import callback_request_priority_raise_recorded
from callbacks.requests.workflow import (
    callback_request_red_flag_reopen,
)
from callbacks.rules.requests import priority_is_urgent
from intake.selectors import MESSAGE_PREFIX, message_priority, questionnaire_response_message_priority
from intake.services import questionnaire_response_step_save

logger = logging.getLogger(__name__)


def text_message_key(text_id: int) -> str:
    """How a text from the patient is named among the texts intake screens (and in the reasons staff read)."""
    return f"{MESSAGE_PREFIX}{text_id}"


@transaction.atomic
def callback_request_text_screen(*, request_id: int, text_id: int, body: str) -> int | None:
    """Read the patient's text ``body`` (stored as ``text_id``) for red flags on the request ``request_id``.

    Returns the staff priority its red flags call for, or None when it has none. A request with no questionnaire
    answers has the text read against the current definition's lexicon alone (`message_priority`). On a red flag,
    in one transaction: the finding is kept in the request's triage reasons (when it has a questionnaire; the text
    itself stays on its timeline either way), the priority rises to it (never falls; the deadline follows), a
    request staff had answered goes back to "in progress", the history says so, and staff are told after commit
    (even when the request was already urgent: this is news)."""
    request = CallbackRequest.objects.select_for_update().get(pk=request_id)
    key = text_message_key(text_id)
    if request.questionnaire_response_id is None:
        found = message_priority(key=key, body=body)
    else:
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
    callback_request_priority_raise_recorded(
        request=request, priority=priority, actor=actor, action=RequestEvent.Action.STATUS, at=timezone.now()
    )
    callback_request_red_flag_reopen(request=request, actor=actor)
    notifications_enqueue_on_commit(notifications_for_priority_raised(request))
    _advice_text_back(text_id=text_id, priority=priority, request=request)
    logger.info("callback request %s: text %s calls for priority %s", request.reference, text_id, priority)
    return priority


@transaction.atomic
def unknown_number_text_screen(*, text_id: int, body: str) -> int | None:
    """Read the text ``body`` (stored as ``text_id``) from a number no request has for red flags, against the
    current definition's lexicon. On an emergency or urgent one, the urgent address is told at once (an e-mail in
    the urgent lane naming the text's id only). Returns the priority found, or None."""
    found = message_priority(key=text_message_key(text_id), body=body)
    if found is None or not priority_is_urgent(found):
        return found
    notification_for_text_red_flag(inbound_text_id=text_id)
    _advice_text_back(text_id=text_id, priority=Priority(found))
    logger.info("text %s from a number with no request calls for priority %s; staff alerted", text_id, found)
    return found


def _advice_text_back(*, text_id: int, priority: Priority, request: CallbackRequest | None = None) -> None:
    phone = InboundText.objects.filter(pk=text_id).values_list("from_phone", flat=True).first() or ""
    notification_for_text_advice(
        inbound_text_id=text_id, phone=phone, emergency=priority == Priority.EMERGENCY, request=request
    )
