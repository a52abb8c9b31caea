"""Data protection: who looked at a patient's health details, a copy of their data, its erasure, and retention.

Every function here leaves a `PrivacyLogEntry` (no personal data in it: a reference, a member of staff, a time,
or the number of requests a purge deleted). Erasure and the purge delete the request together with everything
hanging off it (notifications, history, call attempts, notes) and its questionnaire answers, so nothing of the
patient is left but the log's line.

Who "became a patient" (and so is kept, as part of the clinical record, outside this retention rule): a request
whose status is "booked" now, that was closed with the outcome "appointment booked", or whose appointment a
member of staff confirmed. Everything else is a request that did not lead to an appointment (advice by phone,
referred elsewhere, declined, unreachable, wrong number, duplicate, a booking declined or cancelled, or simply
left open) and is deleted once nothing has happened to it for ``CLINIC_RETENTION_DAYS``: no change to the
request, no history, call or note on it, and no appointment time in that period. Downloading a copy is not a
change (it would otherwise keep the data longer because the patient asked to see it).
"""

import datetime as dt
import json
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from callbacks.consent import CONSENT_TEXTS
from callbacks.models import Appointment, CallAttempt, CallbackRequest, PrivacyLogEntry, RequestEvent, StaffNote
from callbacks.selectors import callback_request_notifications
from clinic.hours import clinic_zone
from intake.models import QuestionnaireResponse
from intake.selectors import questionnaire_response_answers, questionnaire_response_summary

logger = logging.getLogger(__name__)

PURGE_BATCH_SIZE = 500
EXPORT_FORMAT_VERSION = 1


def callback_request_view_record(*, request: CallbackRequest, actor: AbstractBaseUser) -> PrivacyLogEntry:
    """Record that ``actor`` opened the page showing ``request``'s health details, now."""
    return PrivacyLogEntry.objects.create(
        action=PrivacyLogEntry.Action.VIEWED, reference=request.reference, actor=actor
    )


@transaction.atomic
def callback_request_export(*, request: CallbackRequest, actor: AbstractBaseUser) -> bytes:
    """Everything held about the patient of ``request``, as a UTF-8 JSON document.

    The download is recorded in the privacy log and in the request's own history, in the same transaction
    (no file without its record). The document describes the request as it was before that history line.
    """
    document = _export_document(request)
    now = timezone.now()
    RequestEvent.objects.create(
        request=request, actor=actor, at=now, action=RequestEvent.Action.EXPORTED, after="JSON file"
    )
    PrivacyLogEntry.objects.create(
        action=PrivacyLogEntry.Action.EXPORTED, reference=request.reference, actor=actor, at=now
    )
    logger.info("callback request %s exported by user %s", request.reference, actor.pk)
    return json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode()


@transaction.atomic
def callback_request_erase(*, request: CallbackRequest, actor: AbstractBaseUser) -> PrivacyLogEntry:
    """Delete ``request`` with its notifications, history, call attempts, notes and questionnaire answers.

    All or nothing, in one transaction. What remains is one privacy log entry: the reference, who, when.
    """
    locked = CallbackRequest.objects.select_for_update().get(pk=request.pk)
    reference, response_id = locked.reference, locked.questionnaire_response_id
    # The request protects its response, so the request goes first.
    locked.delete()
    if response_id is not None:
        QuestionnaireResponse.objects.filter(pk=response_id).delete()
    entry = PrivacyLogEntry.objects.create(action=PrivacyLogEntry.Action.ERASED, reference=reference, actor=actor)
    logger.info("callback request %s erased by user %s", reference, actor.pk)
    return entry


def callback_requests_expired(*, now: dt.datetime | None = None) -> QuerySet[CallbackRequest]:
    """Requests that never became patients and have not changed for ``CLINIC_RETENTION_DAYS`` (see above)."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.CLINIC_RETENTION_DAYS)
    became_patient = (
        Q(status=CallbackRequest.Status.BOOKED)
        | Q(outcome=CallbackRequest.Outcome.APPOINTMENT)
        | Q(pk__in=Appointment.objects.filter(status=Appointment.Status.CONFIRMED).values("request_id"))
    )
    recent_history = RequestEvent.objects.filter(at__gte=cutoff).exclude(action=RequestEvent.Action.EXPORTED)
    return (
        CallbackRequest.objects.exclude(became_patient)
        .filter(updated_at__lt=cutoff, created_at__lt=cutoff)
        .exclude(pk__in=recent_history.values("request_id"))
        .exclude(pk__in=CallAttempt.objects.filter(made_at__gte=cutoff).values("request_id"))
        .exclude(pk__in=StaffNote.objects.filter(created_at__gte=cutoff).values("request_id"))
        .exclude(pk__in=Appointment.objects.filter(ends_at__gte=cutoff).values("request_id"))
    )


def callback_requests_purge_expired(*, now: dt.datetime | None = None, batch_size: int = PURGE_BATCH_SIZE) -> int:
    """Delete the expired requests (`callback_requests_expired`) and their answers; return how many went.

    Works in batches, each its own transaction, so a long purge never holds locks for long and a failure
    keeps what earlier batches did. Leaves one privacy log entry with the count (also when it is zero, which
    shows the job ran); logs the count only, never a reference.
    """
    now = now or timezone.now()
    deleted = 0
    while True:
        with transaction.atomic():
            batch = list(
                callback_requests_expired(now=now)
                .select_for_update(skip_locked=True)
                .order_by("pk")
                .values_list("pk", "questionnaire_response_id")[:batch_size]
            )
            if not batch:
                break
            CallbackRequest.objects.filter(pk__in=[pk for pk, _ in batch]).delete()
            QuestionnaireResponse.objects.filter(pk__in=[rid for _, rid in batch if rid is not None]).delete()
        deleted += len(batch)
    PrivacyLogEntry.objects.create(action=PrivacyLogEntry.Action.PURGED, count=deleted, at=now)
    logger.info("retention purge deleted %d callback request(s) with their answers", deleted)
    return deleted


# The export document


def _export_document(request: CallbackRequest) -> dict[str, Any]:
    zone = clinic_zone()

    def local(value: dt.datetime | None) -> str | None:
        return timezone.localtime(value, zone).isoformat() if value else None

    return {
        "format": f"clinic-patient-data/{EXPORT_FORMAT_VERSION}",
        "clinic": settings.CLINIC_NAME,
        "exported_at": local(timezone.now()),
        "time_zone": zone.key,
        "request": {
            "reference": request.reference,
            "kind": request.get_kind_display(),
            "received_at": local(request.created_at),
            "last_changed_at": local(request.updated_at),
            "status": request.get_status_display(),
            "outcome": request.get_outcome_display() or None,
            "priority": request.get_priority_display(),
            "respond_by": local(request.deadline),
            "next_call_at": local(request.next_attempt_at),
            "closed_at": local(request.closed_at),
        },
        "contact": {
            "name": request.name,
            "phone": request.phone,
            "email": request.email or None,
            "preferred_callback_from": local(request.window_start),
            "preferred_callback_until": local(request.window_end),
        },
        "reason": request.reason,
        "consent": {
            "version": request.consent_version,
            "given_at": local(request.consent_given_at),
            "text_sha256": request.consent_text_sha256,
            "text": CONSENT_TEXTS.get(request.consent_version),
        },
        "questionnaire": _export_questionnaire(request.questionnaire_response),
        "appointment": _export_appointment(request, local),
        "call_attempts": [
            {"at": local(a.made_at), "by": _staff(a.made_by), "outcome": a.get_outcome_display(), "note": a.note}
            for a in CallAttempt.objects.filter(request=request).select_related("made_by").order_by("made_at")
        ],
        "notes": [
            {"at": local(n.created_at), "by": _staff(n.author), "text": n.text}
            for n in StaffNote.objects.filter(request=request).select_related("author").order_by("created_at")
        ],
        "history": [
            {
                "at": local(e.at),
                "by": _staff(e.actor),
                "action": e.get_action_display(),
                "field": e.field or None,
                "before": e.before,
                "after": e.after,
            }
            for e in RequestEvent.objects.filter(request=request).select_related("actor").order_by("at", "pk")
        ],
        "notifications": [
            {
                "kind": n.get_kind_display(),
                "channel": n.get_channel_display(),
                # A webhook's address may hold the clinic's secret token: the patient gets only its kind.
                "recipient": n.recipient if n.channel == n.Channel.EMAIL else "the clinic's staff chat",
                "status": n.get_status_display(),
                "attempts": n.attempts,
                "created_at": local(n.created_at),
                "sent_at": local(n.sent_at),
            }
            for n in callback_request_notifications(request=request)
        ],
    }


def _export_questionnaire(response: QuestionnaireResponse | None) -> dict[str, Any] | None:
    if response is None:
        return None
    summary = questionnaire_response_summary(response=response)
    values = questionnaire_response_answers(response=response)
    by_question = {line.question_id: line for line in summary.lines}
    return {
        "title": summary.title,
        "definition": summary.definition_key,
        "answered_at": timezone.localtime(response.created_at, clinic_zone()).isoformat(),
        "complete": summary.is_complete,
        "triage_tier": summary.tier.label,
        "answers": [
            {
                "question_id": question_id,
                "step": by_question[question_id].step_title,
                "question": by_question[question_id].question_text,
                "answer": by_question[question_id].answer_text,
                "value": value,
            }
            for question_id, value in values.items()
        ],
        "triage_reasons": [
            {"tier": line.tier.label, "reason": line.text, "source": line.source, "based_on": list(line.answers)}
            for line in summary.reason_lines
        ],
        "scores": list(summary.scores),
    }


def _export_appointment(request: CallbackRequest, local) -> dict[str, Any] | None:
    appointment = (
        Appointment.objects.filter(request=request).select_related("service", "practitioner", "decided_by").first()
    )
    if appointment is None:
        return None
    return {
        "service": appointment.service.name,
        "practitioner": appointment.practitioner.name,
        "starts_at": local(appointment.starts_at),
        "ends_at": local(appointment.ends_at),
        "status": appointment.get_status_display(),
        "decided_at": local(appointment.decided_at),
        "decided_by": _staff(appointment.decided_by),
        "requested_at": local(appointment.created_at),
    }


def _staff(user: Any) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""
