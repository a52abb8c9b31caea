"""Writing patients: a new request's patient (the matching rule), staff linking and unlinking, and removing a
patient nothing points to any more. Every change to a request's patient leaves a `PatientLinkEvent` (who, when,
from which patient to which) in the same transaction."""

import logging

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from callbacks.models import CallbackRequest, Patient, PatientLinkEvent, patient_number
from callbacks.patients.matching import name_key
from callbacks.patients.selectors import patient_exact_match

logger = logging.getLogger(__name__)


class PatientLinkRefused(Exception):
    """The link asked for cannot be made (the message says why, for staff); nothing was changed."""


def _record(*, request, patient, action, actor=None, previous: Patient | None = None) -> PatientLinkEvent:
    return PatientLinkEvent.objects.create(
        request=request,
        patient=patient,
        patient_number=patient_number(patient.pk),
        previous_number=patient_number(previous.pk) if previous else "",
        action=action,
        actor=actor,
        at=timezone.now(),
    )


def _patient_new(request: CallbackRequest) -> Patient:
    return Patient.objects.create(
        name=request.name, name_key=name_key(request.name), phone=request.phone, created_at=request.created_at
    )


# The class of the advisory locks below (PostgreSQL's two-number form), so they never meet another lock's numbers.
PHONE_LOCK_CLASS = 26


def patient_attach_new_request(*, request: CallbackRequest, actor: AbstractBaseUser | None = None) -> Patient:
    """Give a request that has just been stored its patient, by the matching rule (`callbacks.patients.matching`):
    the patient with the same phone number and name, else a new patient. Call inside the request's transaction.
    ``actor`` is who took the request by phone (None for a patient's own), for the history line.

    Two requests from one phone number arriving at the same instant take turns (a transaction lock on the number,
    on PostgreSQL), so the second finds the patient the first made instead of making a twin."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [PHONE_LOCK_CLASS, str(request.phone)])
    patient = patient_exact_match(phone=str(request.phone), name=request.name)
    action = PatientLinkEvent.Action.MATCHED
    if patient is None:
        patient, action = _patient_new(request), PatientLinkEvent.Action.NEW
    request.patient_record = patient
    request.save(update_fields=["patient_record"])
    _record(request=request, patient=patient, action=action, actor=actor)
    return patient


def patient_delete_if_empty(*, patient_id: int | None) -> bool:
    """Delete a patient no request belongs to any more (their name and phone would otherwise outlive the
    requests). True when it went."""
    if patient_id is None:
        return False
    deleted, _ = Patient.objects.filter(pk=patient_id, requests__isnull=True).delete()
    return bool(deleted)


def patients_empty_delete(*, patient_ids) -> int:
    """`patient_delete_if_empty` for many at once (the retention purge). Returns how many went."""
    deleted, _ = Patient.objects.filter(pk__in=list(patient_ids), requests__isnull=True).delete()
    return deleted


@transaction.atomic
def request_patient_link(*, request: CallbackRequest, patient: Patient, actor: AbstractBaseUser) -> Patient:
    """Staff say ``request`` is from ``patient``: the request moves to that patient (its appointment, follow-ups
    and messages with it), recorded; the patient it leaves is deleted if nothing else belongs to it.

    Raises `PatientLinkRefused` when the request is already that patient's."""
    locked = CallbackRequest.objects.select_for_update().get(pk=request.pk)
    if locked.patient_record_id == patient.pk:
        raise PatientLinkRefused(f"{locked.reference} is already linked to patient {patient.number}.")
    previous = Patient.objects.filter(pk=locked.patient_record_id).first()
    locked.patient_record = patient
    locked.save(update_fields=["patient_record", "updated_at"])
    _record(request=locked, patient=patient, action=PatientLinkEvent.Action.LINKED, actor=actor, previous=previous)
    if previous is not None:
        patient_delete_if_empty(patient_id=previous.pk)
    request.patient_record = patient
    logger.info("request %s linked to patient %s by user %s", locked.reference, patient.pk, actor.pk)
    return patient


@transaction.atomic
def request_patient_unlink(*, request: CallbackRequest, actor: AbstractBaseUser) -> Patient:
    """Staff say ``request`` is not from the patient it is linked to: it gets a new patient of its own (made from
    its own name and phone), recorded. The patient it left keeps its other requests.

    Raises `PatientLinkRefused` when the request is its patient's only one (there is nothing to unlink from)."""
    locked = CallbackRequest.objects.select_for_update().get(pk=request.pk)
    previous = Patient.objects.filter(pk=locked.patient_record_id).first()
    if previous is not None and not previous.requests.exclude(pk=locked.pk).exists():
        raise PatientLinkRefused(f"{locked.reference} is the only request of patient {previous.number}.")
    patient = _patient_new(locked)
    locked.patient_record = patient
    locked.save(update_fields=["patient_record", "updated_at"])
    _record(request=locked, patient=patient, action=PatientLinkEvent.Action.UNLINKED, actor=actor, previous=previous)
    if previous is not None:
        # Unlinking says "not the same person": the page does not offer the patient it left straight back.
        _record(request=locked, patient=previous, action=PatientLinkEvent.Action.NOT_SAME, actor=actor)
    request.patient_record = patient
    logger.info("request %s unlinked from patient %s by user %s", locked.reference, previous and previous.pk, actor.pk)
    return patient


@transaction.atomic
def request_patient_not_same(*, request: CallbackRequest, patient: Patient, actor: AbstractBaseUser) -> None:
    """Staff say ``request`` is not from ``patient`` (a phone-only match): the page stops offering it, recorded."""
    _record(request=request, patient=patient, action=PatientLinkEvent.Action.NOT_SAME, actor=actor)
    logger.info("request %s: not patient %s, said user %s", request.reference, patient.pk, actor.pk)
