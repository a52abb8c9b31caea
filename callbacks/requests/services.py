"""Storing a patient's request: the request, its questionnaire answers and its outbox rows in one transaction."""

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from callbacks.models import CallbackRequest, ConsentMethod, Priority
from callbacks.notifications.outbox import notifications_enqueue_on_commit, notifications_for_new_request
from callbacks.requests.closures import request_response_deadline
from callbacks.requests.consent import consent_text_sha256
from callbacks.requests.references import reference_generate
from intake.selectors import questionnaire_response_staff_priority
from intake.services import QuestionnaireAnswers, questionnaire_response_create

logger = logging.getLogger(__name__)

REFERENCE_ATTEMPTS = 10


@transaction.atomic
def callback_request_create(
    *,
    name: str,
    phone: str,
    email: str = "",
    window_start: dt.datetime,
    window_end: dt.datetime,
    reason: str,
    consent_version: str,
    priority: int = Priority.ROUTINE,
    kind: str = CallbackRequest.Kind.CALLBACK,
    questionnaire: QuestionnaireAnswers | None = None,
    consent_method: str = ConsentMethod.ONLINE,
    consent_recorded_by=None,
) -> CallbackRequest:
    """Store a patient's request and its notifications in one transaction, then queue them after commit.

    Either everything is saved or nothing is. The returned request has a unique reference. Queueing
    happens only after commit and never fails the caller: a notification that could not be queued
    stays pending and the beat job queues it later.

    With ``questionnaire``, the intake response (answers, definition version, triage result) is stored in the
    same transaction and linked; the request's priority is the more urgent of ``priority`` and the triage
    tier's, so the questionnaire can raise a priority, never lower it. Raises
    `intake.answers.AnswersInvalid` (and stores nothing) when the answers do not fit the definition.

    A consent told to staff by phone is recorded as such (``consent_method`` phone) with the member of staff
    who heard it (``consent_recorded_by``, required then: the database refuses it otherwise).
    """
    response = None
    if questionnaire is not None:
        response = questionnaire_response_create(
            definition=questionnaire.definition,
            answers=questionnaire.answers,
            complete=questionnaire.complete,
            rechecks=questionnaire.rechecks,
            other_text=questionnaire.other_text,
        )
        priority = min(Priority(priority), Priority(questionnaire_response_staff_priority(response=response)))
    request = CallbackRequest(
        kind=kind,
        name=name,
        phone=phone,
        email=email,
        window_start=window_start,
        window_end=window_end,
        reason=reason,
        consent_version=consent_version,
        consent_text_sha256=consent_text_sha256(consent_version),
        consent_given_at=timezone.now(),
        consent_method=consent_method,
        consent_recorded_by=consent_recorded_by,
        priority=priority,
        deadline=request_response_deadline(priority=priority, received_at=timezone.now()),
        questionnaire_response=response,
    )
    _save_with_unique_reference(request)
    notifications = notifications_for_new_request(request)
    notifications_enqueue_on_commit(notifications)
    logger.info("callback request %s created (id %s, priority %s)", request.reference, request.pk, priority)
    return request


def _save_with_unique_reference(request: CallbackRequest) -> None:
    for _ in range(REFERENCE_ATTEMPTS):
        request.reference = reference_generate()
        try:
            # A savepoint, so that a clash on the reference leaves the outer transaction usable.
            with transaction.atomic():
                request.save()
            return
        except IntegrityError:
            if not CallbackRequest.objects.filter(reference=request.reference).exists():
                raise
    raise RuntimeError("Could not find a free reference; the reference space needs widening.")
