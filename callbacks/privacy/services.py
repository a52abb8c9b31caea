"""Data protection on one request: recording who viewed it, a copy of its data, its erasure.

Every function here leaves a `PrivacyLogEntry` (no personal data in it: a reference, a member of staff, a time).
Erasure deletes the request with everything hanging off it and, through `intake.services`, its answers.
"""

import datetime as dt
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from callbacks.models import CallbackRequest, FollowUp, InboundText, PrivacyLogEntry, RequestEvent
from callbacks.patients.services import patient_delete_if_empty
from callbacks.privacy.export import export_document
from callbacks.privacy.sessions import sessions_of_request_delete
from callbacks.privacy.waitlist import waitlist_entries_of_request, waitlist_entry_erase
from callbacks.requests.selectors import answered_follow_ups, follow_up_response_ids
from intake.selectors import fhir_bundle, fhir_json, questionnaire_response_fhir
from intake.services import questionnaire_responses_delete

logger = logging.getLogger(__name__)

PURGE_BATCH_SIZE = 500
EXPORT_FORMAT_VERSION = 1


def callback_request_view_record(*, request: CallbackRequest, actor: AbstractBaseUser) -> PrivacyLogEntry:
    """Record that ``actor`` opened the page showing ``request``'s health details, now."""
    return PrivacyLogEntry.objects.create(
        action=PrivacyLogEntry.Action.VIEWED, reference=request.reference, actor=actor
    )


def inbound_text_reference(text: InboundText) -> str:
    """How the privacy log names a text from a patient: its request's reference, or (a number no request has)
    TXT- and the text's id."""
    return text.request.reference if text.request_id else f"TXT-{text.pk}"


def inbound_text_view_record(*, text: InboundText, actor: AbstractBaseUser) -> PrivacyLogEntry:
    """Record that ``actor`` opened the page showing a text from a patient (its words may be health details)."""
    return PrivacyLogEntry.objects.create(
        action=PrivacyLogEntry.Action.VIEWED, reference=inbound_text_reference(text), actor=actor
    )


def callback_requests_list_record(*, references: Iterable[str], actor: AbstractBaseUser) -> int:
    """Record that ``actor`` was shown these requests on a list (the queue, the appointments, the diary): one
    entry per reference, all with the same time, in one query. Returns how many were recorded."""
    now = timezone.now()
    entries = [
        PrivacyLogEntry(action=PrivacyLogEntry.Action.LISTED, reference=reference, actor=actor, at=now)
        for reference in dict.fromkeys(references)
    ]
    PrivacyLogEntry.objects.bulk_create(entries)
    return len(entries)


def outcome_report_view_record(*, date_from: dt.date, date_to: dt.date, actor: AbstractBaseUser) -> PrivacyLogEntry:
    """Record that ``actor`` read the clinic's outcome report for these dates on the staff page."""
    return PrivacyLogEntry.objects.create(
        action=PrivacyLogEntry.Action.REPORTED,
        detail=f"Read the outcome report {date_from.isoformat()} to {date_to.isoformat()}",
        actor=actor,
    )


def outcome_report_export_record(*, date_from: dt.date, date_to: dt.date, actor: AbstractBaseUser) -> PrivacyLogEntry:
    """Record that ``actor`` downloaded the clinic's outcome report for these dates (figures, no patient named)."""
    entry = PrivacyLogEntry.objects.create(
        action=PrivacyLogEntry.Action.REPORTED,
        detail=f"Outcome report {date_from.isoformat()} to {date_to.isoformat()}",
        actor=actor,
    )
    logger.info("outcome report %s to %s exported by user %s", date_from, date_to, actor.pk)
    return entry


@transaction.atomic
def callback_request_export(*, request: CallbackRequest, actor: AbstractBaseUser) -> bytes:
    """Everything held about the patient of ``request``, as a UTF-8 JSON document.

    The download is recorded in the privacy log and in the request's own history, in the same transaction
    (no file without its record). The document describes the request as it was before that history line.
    """
    document = export_document(request)
    now = timezone.now()
    RequestEvent.objects.create(
        request=request, actor=actor, at=now, action=RequestEvent.Action.EXPORTED, after="JSON file"
    )
    PrivacyLogEntry.objects.create(
        action=PrivacyLogEntry.Action.EXPORTED, reference=request.reference, actor=actor, at=now
    )
    logger.info("callback request %s exported by user %s", request.reference, actor.pk)
    return json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode()


@dataclass(frozen=True)
class FhirExport:
    """FHIR JSON of the answers of some requests, and the references that had no answers to export."""

    content: bytes
    references: tuple[str, ...]
    without_answers: tuple[str, ...]


@transaction.atomic
def callback_requests_fhir_export(
    *, requests: Iterable[CallbackRequest], actor: AbstractBaseUser, bundle: bool = False, with_names: bool = False
) -> FhirExport:
    """Every answer set of ``requests`` as FHIR R4 JSON: one QuestionnaireResponse, or (with ``bundle`` or more
    than one) a Bundle of them. A request's own answer set is identified by its reference, each answered
    follow-up by the reference and ``follow-up-<weeks>w`` (`answer_set_part`); the patient's name is in them (as
    the subject's display) only ``with_names``.

    Every exported request is recorded once in the privacy log and in its history, in the same transaction,
    however many answer sets it had; a request without any is skipped and named in ``without_answers``. Empty
    ``content`` when none had any.
    """
    requests = list(requests)
    follow_ups = answered_follow_ups(request_ids=[request.pk for request in requests])
    resources, exported, skipped = [], [], []
    for request in requests:
        answer_sets = _answer_sets(request, follow_ups.get(request.pk, []))
        if not answer_sets:
            skipped.append(request.reference)
            continue
        name = request.name if with_names else None
        resources.extend(
            questionnaire_response_fhir(response=response, reference=request.reference, part=part, subject_display=name)
            for part, response in answer_sets
        )
        exported.append(request)
    if not resources:
        return FhirExport(content=b"", references=(), without_answers=tuple(skipped))
    resource = resources[0] if len(resources) == 1 and not bundle else fhir_bundle(resources=resources)
    _exports_record(requests=exported, actor=actor, what="FHIR QuestionnaireResponse (JSON)")
    return FhirExport(
        content=fhir_json(resource=resource).encode(),
        references=tuple(request.reference for request in exported),
        without_answers=tuple(skipped),
    )


def answer_set_part(follow_up: FollowUp) -> str:
    """What tells a follow-up's answer set from the request's own in its FHIR identifier: ``follow-up-6w``."""
    return f"follow-up-{follow_up.weeks}w"


def _answer_sets(request: CallbackRequest, follow_ups: list[FollowUp]) -> list[tuple[str | None, Any]]:
    """The request's answer sets, its own first (no part), then its answered follow-ups' in weeks order."""
    own = [(None, request.questionnaire_response)] if request.questionnaire_response is not None else []
    return own + [(answer_set_part(follow_up), follow_up.questionnaire_response) for follow_up in follow_ups]


def _exports_record(*, requests: list[CallbackRequest], actor: AbstractBaseUser, what: str) -> None:
    now = timezone.now()
    RequestEvent.objects.bulk_create(
        RequestEvent(request=request, actor=actor, at=now, action=RequestEvent.Action.EXPORTED, after=what)
        for request in requests
    )
    PrivacyLogEntry.objects.bulk_create(
        PrivacyLogEntry(action=PrivacyLogEntry.Action.EXPORTED, reference=request.reference, actor=actor, at=now)
        for request in requests
    )
    # References and the member of staff only: never an answer or a name in the log.
    logger.info("%d request(s) exported as FHIR by user %s", len(requests), actor.pk)


@transaction.atomic
def callback_request_erase(*, request: CallbackRequest, actor: AbstractBaseUser) -> PrivacyLogEntry:
    """Delete ``request`` with its notifications, history, call attempts, notes and questionnaire answers, the
    patient's session that sent it, with any unfinished flow still in it, and the patient's waitlist entries with
    their offers (`waitlist_entries_of_request`).

    All or nothing, in one transaction. What remains is one privacy log entry for the request (returned) and one
    for each waitlist entry: the reference, who, when.
    """
    locked = CallbackRequest.objects.select_for_update().get(pk=request.pk)
    reference = locked.reference
    for entry in waitlist_entries_of_request(request=locked):
        waitlist_entry_erase(entry=entry, actor=actor)
    response_ids = [locked.questionnaire_response_id, *follow_up_response_ids(request_ids=[locked.pk])]
    # The request (and its follow-ups) protect their responses, so the request goes first.
    locked.delete()
    # A patient whose last request this was goes too (their name and phone would outlive it otherwise).
    patient_delete_if_empty(patient_id=locked.patient_record_id)
    questionnaire_responses_delete(response_ids=response_ids)
    sessions = sessions_of_request_delete(reference=reference)
    entry = PrivacyLogEntry.objects.create(action=PrivacyLogEntry.Action.ERASED, reference=reference, actor=actor)
    logger.info("callback request %s erased by user %s (and %d session(s))", reference, actor.pk, sessions)
    return entry
