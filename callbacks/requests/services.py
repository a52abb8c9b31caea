"""Storing a patient's request: the request, its questionnaire answers and its outbox rows in one transaction."""

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from callbacks.models import Appointment, CallbackRequest, ConsentMethod, Notification, Priority
from callbacks.notifications.outbox import (
    notification_queue_once,
    notifications_enqueue_on_commit,
    notifications_for_new_request,
    notifications_for_priority_raised,
)
from callbacks.patients.services import patient_attach_new_request
from callbacks.requests.capacity import capacity_place_take
from callbacks.requests.closures import request_response_deadline
from callbacks.requests.consent import consent_text_sha256
from callbacks.requests.references import reference_generate
from callbacks.rules.deadline import promised_deadline
from callbacks.rules.requests import status_takes_answers
from intake.selectors import Step, questionnaire_response_staff_priority
from intake.services import QuestionnaireAnswers, questionnaire_response_create, questionnaire_response_step_save

logger = logging.getLogger(__name__)

REFERENCE_ATTEMPTS = 10
# The shortest "as soon as we can" window, for a deadline that has already come (the clinic is open now).
ASAP_MIN_WINDOW = dt.timedelta(minutes=15)


@transaction.atomic
def callback_request_create(
    *,
    name: str,
    phone: str,
    email: str = "",
    window_start: dt.datetime | None = None,
    window_end: dt.datetime | None = None,
    reason: str = "",
    consent_version: str,
    priority: int = Priority.ROUTINE,
    kind: str = CallbackRequest.Kind.CALLBACK,
    questionnaire: QuestionnaireAnswers | None = None,
    consent_method: str = ConsentMethod.ONLINE,
    consent_recorded_by=None,
    idempotency_key: str = "",
    capacity_counted: bool = False,
    capacity_held: bool = False,
    notify_staff: bool = True,
    notify_patient: bool = True,
    text_consent_version: str = "",
    phone_relay_prefix: str = "",
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
    who heard it (``consent_recorded_by``, required then: the database refuses it otherwise). The patient's choice
    of texts is recorded the same way: ``text_consent_version`` (the wording they saw; "" for no texts) and the
    time. ``phone_relay_prefix`` is a text-relay prefix (18001, 18002) typed before the number, kept as given.

    Without a window (the emergency path asks for no day or time) the request is "as soon as we can": its
    window runs from now to its response deadline.

    With ``idempotency_key`` (the patient's journey), a journey stores at most one request: sent again, even at
    the same instant from another tab, it stores nothing more and returns the request stored first (the
    database's unique constraint decides between two sends racing).

    With ``capacity_counted`` (a patient's online callback request), a routine request takes one of the day's
    places (`callbacks.requests.capacity.capacity_place_take`): when none is left it raises `CapacityFull` and
    stores nothing, unless ``capacity_held`` (the journey kept its place through the grace period).

    ``notify_staff`` and ``notify_patient`` off leave out the staff's or the patient's notifications of a new
    request: a course of care's later sessions, whose one e-mail and staff notice go with the first.
    """
    fields = {
        "name": name,
        "phone": phone,
        "email": email,
        "window_start": window_start,
        "window_end": window_end,
        "reason": reason,
        "consent_version": consent_version,
        "priority": priority,
        "kind": kind,
        "questionnaire": questionnaire,
        "consent_method": consent_method,
        "consent_recorded_by": consent_recorded_by,
        "capacity_counted": capacity_counted,
        "capacity_held": capacity_held,
        "notify_staff": notify_staff,
        "notify_patient": notify_patient,
        "text_consent_version": text_consent_version,
        "phone_relay_prefix": phone_relay_prefix,
    }
    if not idempotency_key:
        return _callback_request_insert(**fields, idempotency_key="")
    existing = CallbackRequest.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        logger.info("callback request %s: its journey was sent again; nothing stored", existing.reference)
        return existing
    try:
        # A savepoint: a second send of the journey leaves nothing behind, not even its questionnaire answers.
        with transaction.atomic():
            return _callback_request_insert(**fields, idempotency_key=idempotency_key)
    except IntegrityError:
        existing = CallbackRequest.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        logger.info("callback request %s: its journey was sent again; nothing stored", existing.reference)
        return existing


def _callback_request_insert(
    *,
    name: str,
    phone: str,
    email: str,
    window_start: dt.datetime | None,
    window_end: dt.datetime | None,
    reason: str,
    consent_version: str,
    priority: int,
    kind: str,
    questionnaire: QuestionnaireAnswers | None,
    consent_method: str,
    consent_recorded_by,
    idempotency_key: str,
    capacity_counted: bool,
    capacity_held: bool,
    notify_staff: bool,
    notify_patient: bool,
    text_consent_version: str,
    phone_relay_prefix: str,
) -> CallbackRequest:
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
    received_at = timezone.now()
    if capacity_counted:
        capacity_place_take(received_at=received_at, priority=priority, held=capacity_held)
    by_priority = request_response_deadline(priority=priority, received_at=received_at)
    if window_start is None or window_end is None:
        window_start, window_end = received_at, max(by_priority, received_at + ASAP_MIN_WINDOW)
    deadline = promised_deadline(
        priority=priority,
        booking=kind == CallbackRequest.Kind.BOOKING,
        window_start=window_start,
        window_end=window_end,
        by_priority=by_priority,
    )
    request = CallbackRequest(
        kind=kind,
        name=name,
        phone=phone,
        phone_relay_prefix=phone_relay_prefix,
        email=email,
        text_consent_version=text_consent_version,
        text_consent_given_at=received_at if text_consent_version else None,
        window_start=window_start,
        window_end=window_end,
        reason=reason,
        consent_version=consent_version,
        consent_text_sha256=consent_text_sha256(consent_version),
        consent_given_at=received_at,
        consent_method=consent_method,
        consent_recorded_by=consent_recorded_by,
        created_at=received_at,
        priority=priority,
        deadline=deadline,
        questionnaire_response=response,
        idempotency_key=idempotency_key,
    )
    _save_with_unique_reference(request)
    patient_attach_new_request(request=request, actor=consent_recorded_by)
    notifications = notifications_for_new_request(request, staff=notify_staff, patient=notify_patient)
    notifications_enqueue_on_commit(notifications)
    logger.info("callback request %s created (id %s, priority %s)", request.reference, request.pk, priority)
    return request


class RequestAnswersFinished(Exception):
    """The request is finished for the patient's answers (`callbacks.rules.requests.status_takes_answers`):
    nothing was stored."""


@dataclass(frozen=True)
class QuestionnaireStepSaved:
    request: CallbackRequest
    priority_raised: bool


@transaction.atomic
def callback_request_questionnaire_step_save(
    *,
    request_id: int,
    step: Step | None,
    step_answers: Mapping[str, Any] | None = None,
    rechecks: Mapping[str, bool] | None = None,
) -> QuestionnaireStepSaved:
    """Store one more page of the questionnaire (or the answers to safety questions asked again) on a stored
    request and re-triage it, with its reason, in one transaction.

    Guarantees: the priority can rise, never fall; on a rise the deadline moves to the earlier of the current
    one and the new priority's, and staff are notified again through the outbox (queued after commit); a rise
    to emergency releases the appointment time a booking held. Raises
    `intake.answers.AnswersInvalid` (nothing stored) when the answers do not fit,
    `RequestAnswersFinished` (nothing stored) once the clinic has spoken with the patient or closed the request
    (checked under the row lock, so a page sent as staff close the request changes nothing), and
    `CallbackRequest.DoesNotExist` for a request without a questionnaire. Answers already stored are never
    overwritten: a correction is kept as a new version beside the old one (`intake.services`).
    """
    request = CallbackRequest.objects.select_for_update().get(pk=request_id, questionnaire_response__isnull=False)
    if not status_takes_answers(request.status):
        raise RequestAnswersFinished(request.reference)
    saved = questionnaire_response_step_save(
        response_id=request.questionnaire_response_id,
        step=step,
        step_answers=step_answers,
        rechecks=rechecks,
        other_text={"reason": request.reason},
    )
    priority = Priority(questionnaire_response_staff_priority(response=saved.response))
    raised = callback_request_priority_raise(request=request, priority=priority)
    if raised:
        if priority == Priority.EMERGENCY:
            _appointments_release_for_emergency(request)
        notifications_enqueue_on_commit(notifications_for_priority_raised(request))
    return QuestionnaireStepSaved(request=request, priority_raised=raised)


def _appointments_release_for_emergency(request: CallbackRequest) -> None:
    """An emergency is not kept waiting for a routine appointment: the time it held goes back on offer, and the
    patient (if they gave an address) gets the cancellation with a calendar file that takes the event out of
    their calendar, and the emergency advice again; staff are told by the priority-raised notification."""
    for appointment in Appointment.objects.holding().select_for_update().filter(request=request):
        appointment.status = Appointment.Status.CANCELLED
        appointment.decided_at = timezone.now()
        # A new calendar file: a higher SEQUENCE, as `callbacks.booking.calendar.appointment_calendar_change`.
        appointment.calendar_sequence += 1
        appointment.save(update_fields=["status", "decided_at", "calendar_sequence"])
        notification_queue_once(
            request=request,
            kind=Notification.Kind.BOOKING_CANCELLED_BY_CLINIC,
            calendar_sequence=appointment.calendar_sequence,
        )


def callback_request_priority_raise(*, request: CallbackRequest, priority: int) -> bool:
    """Raise a locked request's priority to ``priority`` when that is more urgent; never lower it. Returns
    whether it rose. On a rise the deadline moves to the earlier of the current one and the new priority's.
    The caller holds the row lock and decides whom to tell."""
    if priority >= request.priority:
        return False
    request.priority = priority
    new_deadline = request_response_deadline(priority=priority, received_at=timezone.now())
    request.deadline = min(request.deadline, new_deadline) if request.deadline else new_deadline
    request.save(update_fields=["priority", "deadline", "updated_at"])
    logger.info("callback request %s: priority raised to %s by later answers", request.reference, priority)
    return True


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


def callback_request_window_move(
    *, request: CallbackRequest, window_start: dt.datetime, window_end: dt.datetime
) -> None:
    """A booking's appointment moved (by staff or by the patient's link): its request's window is the new time,
    and its deadline is what the new time promises (`promised_deadline`: confirmed before the new start, and by
    the priority's own deadline when that is sooner). Call in the move's transaction, the request locked."""
    by_priority = request_response_deadline(priority=request.priority, received_at=request.created_at)
    request.window_start, request.window_end = window_start, window_end
    request.deadline = promised_deadline(
        priority=request.priority,
        booking=request.kind == CallbackRequest.Kind.BOOKING,
        window_start=window_start,
        window_end=window_end,
        by_priority=by_priority,
    )
    request.save(update_fields=["window_start", "window_end", "deadline", "updated_at"])
