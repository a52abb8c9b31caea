"""Reading patients: who a phone number may be, a patient's requests and appointments, what a request's page offers."""

from django.db.models import Prefetch, QuerySet

from callbacks.models import Appointment, CallbackRequest, Patient, PatientLinkEvent
from callbacks.patients.matching import name_key


def patient_exact_match(*, phone: str, name: str) -> Patient | None:
    """The patient the matching rule links a new request to by itself: the same phone and name (the oldest)."""
    return Patient.objects.filter(phone=phone, name_key=name_key(name)).order_by("pk").first()


def patients_with_phone(*, phone: str) -> QuerySet[Patient]:
    """Every patient with this (E.164) phone number, with their open requests, oldest patient first."""
    open_requests = CallbackRequest.objects.open().order_by("created_at").select_related("appointment")
    return (
        Patient.objects.filter(phone=phone)
        .order_by("pk")
        .prefetch_related(Prefetch("requests", queryset=open_requests, to_attr="open_requests"))
    )


def patient_offers_for_request(*, request: CallbackRequest) -> list[Patient]:
    """Other patients with the request's phone number that staff have not turned down for it: the page offers
    to link the request to each (the matching rule never does it by itself for a phone-only match)."""
    turned_down = PatientLinkEvent.objects.filter(request=request, action=PatientLinkEvent.Action.NOT_SAME).values(
        "patient_id"
    )
    return list(
        Patient.objects.filter(phone=request.phone)
        .exclude(pk=request.patient_record_id or 0)
        .exclude(pk__in=turned_down.exclude(patient_id=None))
        .order_by("pk")
    )


def patient_requests(*, patient: Patient) -> QuerySet[CallbackRequest]:
    """A patient's requests, newest first, each with its appointment (if any)."""
    return CallbackRequest.objects.filter(patient_record=patient).select_related("appointment").order_by("-created_at")


def patient_appointments(*, patient: Patient) -> QuerySet[Appointment]:
    """A patient's appointments (through their requests), newest first."""
    return (
        Appointment.objects.filter(request__patient_record=patient)
        .select_related("request", "service", "practitioner")
        .order_by("-starts_at")
    )


def patient_link_history(*, patient: Patient) -> QuerySet[PatientLinkEvent]:
    """Every link made to or taken from this patient, and matches turned down, newest first."""
    return PatientLinkEvent.objects.filter(patient=patient).select_related("request", "actor").order_by("-at", "-pk")
