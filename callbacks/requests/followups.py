"""A patient's side of an outcome follow-up: answering it by its link, and stopping them all.

An answer set is stored by intake (`intake.services.questionnaire_response_create`) against the current
`outcomes` definition, so it records its version and scores and is triaged by the same engine and rules as an
intake answer. A follow-up whose answers call for emergency or urgent care reaches staff the way a rise in
priority does (`callbacks.notifications.routing.priority_raised_routes`), and the request's history says so.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from callbacks.models import CallbackRequest, FollowUp, Priority, RequestEvent
from callbacks.notifications.outbox import notifications_enqueue_on_commit, notifications_for_priority_raised
from callbacks.requests.actors import patient_link_actor
from callbacks.requests.services import callback_request_priority_raise
from callbacks.requests.workflow import (
    callback_request_red_flag_reopen,
    moment_label,
    request_event_record,
)
from callbacks.rules.followups import FOLLOW_UP_ANSWERABLE_STATUSES
from callbacks.rules.requests import priority_is_urgent
from intake.selectors import (
    OUTCOMES,
    definition_current,
    questionnaire_response_advice_priority,
    questionnaire_response_answers,
    questionnaire_response_staff_priority,
)
from intake.services import questionnaire_response_create

logger = logging.getLogger(__name__)

# The PSFS activity questions of the outcomes definition, in order; later follow-ups show the first ones named.
PSFS_ACTIVITY_IDS = ("psfs_activity_1", "psfs_activity_2", "psfs_activity_3")
# The global rating of change is asked from this many weeks on (it compares with how the patient was at first).
GLOBAL_CHANGE_FROM_WEEKS = 2


class FollowUpClosed(Exception):
    """The follow-up cannot be answered (any more): answered already, or the patient stopped them."""


@dataclass(frozen=True)
class FollowUpAnswered:
    follow_up: FollowUp
    # The advice the answers call for: "emergency", "urgent" or "" (the same words as the intake pages').
    advice: str
    priority_raised: bool


@transaction.atomic
def follow_up_answer_save(
    *,
    follow_up_id: int,
    answers: Mapping[str, Any],
    complete: bool = True,
    rechecks: Mapping[str, bool] | None = None,
) -> FollowUpAnswered:
    """Store the answers to a sent follow-up and spend its link, in one transaction.

    Guarantees: a follow-up is answered at most once (its row is locked; a second call raises `FollowUpClosed`);
    the answer set names the exact definition version; `intake.answers.AnswersInvalid` (nothing stored) when an
    answer does not fit. Emergency or urgent answers raise the request's priority (never lower it) and queue the
    staff e-mails after commit; the answer, and any rise, are in the request's history. ``complete=False`` keeps
    what was answered when the patient stopped at an emergency answer. ``rechecks`` are the safety questions asked
    again because of what the patient wrote (question id -> their answer), kept with the answers as at intake.
    """
    follow_up = FollowUp.objects.select_for_update().get(pk=follow_up_id)
    request = CallbackRequest.objects.select_for_update().get(pk=follow_up.request_id)
    if follow_up.status not in FOLLOW_UP_ANSWERABLE_STATUSES or request.follow_ups_stopped_at is not None:
        raise FollowUpClosed(follow_up.status)
    response = questionnaire_response_create(
        definition=definition_current(OUTCOMES), answers=answers, complete=complete, rechecks=rechecks
    )
    now = timezone.now()
    follow_up.status, follow_up.answered_at, follow_up.questionnaire_response = FollowUp.Status.ANSWERED, now, response
    follow_up.save(update_fields=["status", "answered_at", "questionnaire_response"])
    actor = patient_link_actor()
    priority = Priority(questionnaire_response_staff_priority(response=response))
    red_flag = priority_is_urgent(priority)
    _event(request, actor, now, field="follow_up", after=_answered_text(follow_up, priority, red_flag))
    before_priority, before_deadline = request.priority, request.deadline
    raised = callback_request_priority_raise(request=request, priority=priority)
    if raised:
        _event(request, actor, now, field="priority", before=Priority(before_priority).label, after=priority.label)
        if request.deadline != before_deadline:
            _event(
                request,
                actor,
                now,
                field="deadline",
                before=moment_label(before_deadline),
                after=moment_label(request.deadline),
            )
    if red_flag:
        # Booked, contacted or closed: back among the requests awaiting a response, so the queue shows it, its
        # deadline runs from now and an overdue one is chased (with the reopening in the history).
        callback_request_red_flag_reopen(request=request, actor=actor)
    if red_flag:
        # Told like a new request of this priority, even when the request was already urgent: this is news.
        notifications_enqueue_on_commit(notifications_for_priority_raised(request))
    logger.info(
        "follow-up %s answered (request %s, response %s, priority %s)",
        follow_up.pk,
        request.reference,
        response.pk,
        priority,
    )
    # The advice comes from the reasons that advise: a possible red flag the patient denied when asked again tells
    # staff only (callbacks.requests.advice).
    advised = Priority(questionnaire_response_advice_priority(response=response))
    advice = advised.name.lower() if priority_is_urgent(advised) else ""
    return FollowUpAnswered(follow_up=follow_up, advice=advice, priority_raised=raised)


def _answered_text(follow_up: FollowUp, priority: Priority, red_flag: bool) -> str:
    text = f"The patient answered the {follow_up.weeks}-week follow-up."
    if red_flag:
        text += f" Its safety answers call for: {priority.label}. See the follow-up's answers."
    return text


def _event(request, actor, at, *, field: str, before: str = "", after: str = "") -> None:
    request_event_record(
        request=request,
        actor=actor,
        action=RequestEvent.Action.FOLLOW_UP,
        at=at,
        field=field,
        before=before,
        after=after,
    )


@transaction.atomic
def follow_ups_stop(*, request_id: int) -> bool:
    """Stop every follow-up of the request not yet answered (none is sent after this). False if already stopped."""
    request = CallbackRequest.objects.select_for_update().get(pk=request_id)
    if request.follow_ups_stopped_at is not None:
        return False
    now = timezone.now()
    request.follow_ups_stopped_at = now
    request.save(update_fields=["follow_ups_stopped_at", "updated_at"])
    stopped = FollowUp.objects.filter(
        request=request, status__in=[FollowUp.Status.SCHEDULED, FollowUp.Status.SENT, FollowUp.Status.FAILED]
    ).update(status=FollowUp.Status.STOPPED)
    _event(
        request,
        patient_link_actor(),
        now,
        field="follow_ups_stopped_at",
        after=f"The patient stopped the follow-up e-mails ({stopped} not answered).",
    )
    logger.info("callback request %s: follow-ups stopped by the patient", request.reference)
    return True


def follow_up_activities_named(*, request: CallbackRequest) -> list[str]:
    """The PSFS activities the patient named in their first answered follow-up (empty before one), so that later
    follow-ups ask about the same ones."""
    first = (
        FollowUp.objects.answered()
        .filter(request=request, questionnaire_response__isnull=False)
        .select_related("questionnaire_response")
        .order_by("weeks")
        .first()
    )
    if first is None:
        return []
    answers = questionnaire_response_answers(response=first.questionnaire_response)
    return [answers[key] for key in PSFS_ACTIVITY_IDS if answers.get(key)]


def follow_up_asks_global_change(follow_up: FollowUp) -> bool:
    return follow_up.weeks >= GLOBAL_CHANGE_FROM_WEEKS
