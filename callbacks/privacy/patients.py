"""Data protection for one patient across all their requests: one download of everything, one erasure of
everything, each recorded in the privacy log (per request, and once for the patient's number)."""

import json
import logging

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from callbacks.models import (
    CallbackRequest,
    CourseOfCare,
    InboundText,
    Patient,
    PatientLinkEvent,
    PrivacyLogEntry,
    RequestEvent,
)
from callbacks.patients.services import patient_delete_if_empty
from callbacks.privacy.export import EXPORT_FORMAT_VERSION, export_document
from callbacks.privacy.services import callback_request_erase
from callbacks.rules.staff import staff_display_name
from clinic.hours import clinic_zone

logger = logging.getLogger(__name__)


def _texts_without_request(patient: Patient):
    """Texts from the patient's number that no request holds (sent before they had one, or after it closed)."""
    return InboundText.objects.filter(request__isnull=True, from_phone=str(patient.phone))


def patient_export_document(patient: Patient) -> dict:
    """The patient as the clinic holds them: each of their requests' own document, oldest first; which requests
    were linked to them and by whom; their courses of care; and texts from their number that no request holds."""
    requests = CallbackRequest.objects.filter(patient_record=patient).order_by("created_at", "pk")
    links = PatientLinkEvent.objects.filter(request__patient_record=patient).select_related("request", "actor")
    courses = CourseOfCare.objects.filter(appointments__request__patient_record=patient).distinct().order_by("pk")
    zone = clinic_zone()
    return {
        "format": f"clinic-patient-data/{EXPORT_FORMAT_VERSION}",
        "clinic": settings.CLINIC_NAME,
        "exported_at": timezone.localtime(timezone.now(), zone).isoformat(),
        "patient": {"number": patient.number, "name": patient.name, "phone": str(patient.phone)},
        "requests": [export_document(request) for request in requests],
        "patient_links": [
            {
                "at": timezone.localtime(link.at, zone).isoformat(),
                "request": link.request.reference,
                "action": link.get_action_display(),
                "from_patient": link.previous_number,
                "to_patient": link.patient_number,
                "by": staff_display_name(link.actor) if link.actor else "the matching rule",
            }
            for link in links.order_by("at", "pk")
        ],
        "courses_of_care": [
            {
                "cadence": course.get_cadence_display(),
                "sessions_asked": course.sessions_asked,
                "sessions": [
                    {
                        "request": appointment.request.reference,
                        "starts_at": timezone.localtime(appointment.starts_at, zone).isoformat(),
                        "status": appointment.get_status_display(),
                    }
                    for appointment in course.appointments.select_related("request").order_by("starts_at")
                ],
            }
            for course in courses
        ],
        "texts_without_a_request": [
            {"received_at": timezone.localtime(text.received_at, zone).isoformat(), "text": text.body}
            for text in _texts_without_request(patient).order_by("received_at")
        ],
    }


@transaction.atomic
def patient_export(*, patient: Patient, actor: AbstractBaseUser) -> bytes:
    """Everything held about ``patient`` (all their requests), as one UTF-8 JSON document.

    Recorded in the same transaction as it is made: a history line on every request and a privacy log entry for
    each request's reference and one for the patient's number."""
    document = patient_export_document(patient)
    now = timezone.now()
    requests = list(CallbackRequest.objects.filter(patient_record=patient).only("pk", "reference"))
    RequestEvent.objects.bulk_create(
        RequestEvent(request=request, actor=actor, at=now, action=RequestEvent.Action.EXPORTED, after="JSON file")
        for request in requests
    )
    PrivacyLogEntry.objects.bulk_create(
        PrivacyLogEntry(action=PrivacyLogEntry.Action.EXPORTED, reference=reference, actor=actor, at=now)
        for reference in [patient.number, *(request.reference for request in requests)]
    )
    logger.info("patient %s (%d request(s)) exported by user %s", patient.pk, len(requests), actor.pk)
    return json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode()


@transaction.atomic
def patient_erase(*, patient: Patient, actor: AbstractBaseUser) -> list[str]:
    """Erase every request of ``patient`` (each as `callback_request_erase` does: answers, history, calls, notes,
    appointment, follow-ups, messages, waitlist entries, texts), the texts from their number no request holds, and
    the patient, all or nothing. The privacy log keeps
    one entry per request and one for the patient's number. Returns the erased requests' references."""
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    references = []
    for request in CallbackRequest.objects.filter(patient_record=locked).order_by("pk"):
        callback_request_erase(request=request, actor=actor)
        references.append(request.reference)
    _texts_without_request(locked).delete()
    number = locked.number
    patient_delete_if_empty(patient_id=locked.pk)
    PrivacyLogEntry.objects.create(action=PrivacyLogEntry.Action.ERASED, reference=number, actor=actor)
    logger.info("patient %s (%d request(s)) erased by user %s", patient.pk, len(references), actor.pk)
    return references
