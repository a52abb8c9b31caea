"""Retention: requests that never became patients are deleted once nothing has happened to them for a while.

Every function here leaves a `PrivacyLogEntry` (no personal data in it: a reference, a member of staff, a time,
or the number of requests a purge deleted). Erasure and the purge delete the request together with everything
hanging off it (notifications, history, call attempts, notes) and its questionnaire answers, so nothing of the
patient is left but the log's line.

Who "became a patient" (and so is kept, as part of the clinical record, outside this retention rule): a request
whose status is "booked" now, that was closed with the outcome "appointment booked", or whose appointment a
member of staff confirmed. Everything else is a request that did not lead to an appointment (advice by phone,
referred elsewhere, declined, unreachable, wrong number, duplicate, a booking declined or cancelled, or simply
left open) and is deleted once nothing has happened to it for ``CLINIC_RETENTION_DAYS``: no change to the
request, no history, call, note or text from the patient on it, and no appointment time in that period. A text
from a number no request has is deleted after the same period. Downloading a copy is not a
change (it would otherwise keep the data longer because the patient asked to see it).
"""

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from callbacks.models import (
    Appointment,
    CallAttempt,
    CallbackRequest,
    InboundText,
    PrivacyLogEntry,
    RequestEvent,
    StaffNote,
)
from callbacks.patients.services import patients_empty_delete
from callbacks.privacy.sessions import sessions_expired_delete
from callbacks.requests.selectors import follow_up_response_ids
from intake.services import questionnaire_responses_delete

logger = logging.getLogger(__name__)

PURGE_BATCH_SIZE = 500
EXPORT_FORMAT_VERSION = 1


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
        .exclude(pk__in=InboundText.objects.filter(received_at__gte=cutoff, request__isnull=False).values("request_id"))
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
                .values_list("pk", "questionnaire_response_id", "patient_record_id")[:batch_size]
            )
            if not batch:
                break
            request_ids = [pk for pk, _, _ in batch]
            follow_up_responses = follow_up_response_ids(request_ids=request_ids)
            CallbackRequest.objects.filter(pk__in=request_ids).delete()
            questionnaire_responses_delete(
                response_ids=[*(response_id for _, response_id, _ in batch), *follow_up_responses]
            )
            # A patient left with no request goes too; one with a request kept (a booking) stays.
            patients_empty_delete(patient_ids={patient_id for _, _, patient_id in batch if patient_id})
        deleted += len(batch)
    # Unfinished answers never became a request: they go with their session once it has ended. Texts from numbers
    # no request had are kept as long as a request would be.
    sessions = sessions_expired_delete(now=now)
    cutoff = now - dt.timedelta(days=settings.CLINIC_RETENTION_DAYS)
    InboundText.objects.filter(request__isnull=True, received_at__lt=cutoff).delete()
    PrivacyLogEntry.objects.create(action=PrivacyLogEntry.Action.PURGED, count=deleted, at=now)
    logger.info(
        "retention purge deleted %d callback request(s) with their answers, %d ended session(s)", deleted, sessions
    )
    return deleted
