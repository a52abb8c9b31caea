"""One patient across many requests: the record that links a person's requests (and through them their
appointments, follow-ups and messages), and the history of every link made or undone."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from callbacks.models.requests import AppendOnlyModel, PostgresTrigramIndex, clinic_time_text


class Patient(models.Model):
    """A person the clinic knows, with the name and phone number of the request that first made them.

    Requests point here (`CallbackRequest.patient_record`); nothing else does. ``name_key`` is the name as the matching
    rule compares it (`callbacks.patients.matching.name_key`): a new request whose phone and name key both match
    joins this patient by itself, a request matching the phone only is offered to staff (never merged).
    """

    name = models.CharField(max_length=120)
    name_key = models.CharField(max_length=120, editable=False)
    phone = PhoneNumberField(max_length=20, help_text="E.164, e.g. +447400123456")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-pk"]
        indexes = [
            models.Index(fields=["phone", "name_key"], name="cb_patient_match"),
            PostgresTrigramIndex(Upper("name"), name="cb_patient_name_trgm"),
            PostgresTrigramIndex(Upper("phone"), name="cb_patient_phone_trgm"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(phone__regex=r"^\+[1-9][0-9]{6,14}$"), name="cb_patient_phone_e164"),
        ]

    def __str__(self):
        return f"{self.number} {self.name}"

    @property
    def number(self) -> str:
        """How staff name a patient: P- and six digits (the number of its row, never reused)."""
        return patient_number(self.pk)


def patient_number(pk: int | None) -> str:
    return f"P-{pk:06d}" if pk else "P-new"


class PatientLinkEvent(AppendOnlyModel):
    """One change to which patient a request belongs, or a match staff turned down: who (none when the matching
    rule linked it by itself), when, and the patient's number as it was (the row may be gone since)."""

    class Action(models.TextChoices):
        MATCHED = "matched", "Linked by itself (same phone number and name)"
        NEW = "new", "New patient"
        LINKED = "linked", "Linked by staff"
        UNLINKED = "unlinked", "Unlinked by staff (a patient of its own)"
        NOT_SAME = "not_same", "Not the same person"

    request = models.ForeignKey("callbacks.CallbackRequest", on_delete=models.CASCADE, related_name="patient_events")
    patient = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.SET_NULL, related_name="link_events")
    patient_number = models.CharField(max_length=12)
    previous_number = models.CharField(max_length=12, blank=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    # PROTECT: staff accounts are deactivated, not deleted. None: the matching rule, when the request arrived.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta(AppendOnlyModel.Meta):
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["request", "at"], name="cb_patient_event_request"),
            models.Index(fields=["patient", "at"], name="cb_patient_event_patient"),
        ]

    def __str__(self):
        return f"{self.get_action_display()}: {self.patient_number} at {clinic_time_text(self.at)}"
