"""The waitlist: patients who asked for an earlier time, and the freed slots offered to them."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from callbacks.models.booking import Appointment, Practitioner, Service


class WaitlistEntry(models.Model):
    """A patient who found no suitable time and asked to be offered one that frees up."""

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        BOOKED = "booked", "Booked from an offer"
        LEFT = "left", "Left the waitlist"

    reference = models.CharField(max_length=12, unique=True, editable=False)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="waitlist")
    practitioner = models.ForeignKey(
        Practitioner,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="waitlist",
        help_text="Empty: any practitioner.",
    )
    # The weekdays that suit, as digits (Monday 0 ... Sunday 6); empty for any day.
    weekdays = models.CharField(max_length=7, blank=True)
    name = models.CharField(max_length=120)
    phone = PhoneNumberField(max_length=20, help_text="E.164, e.g. +447400123456")
    phone_relay_prefix = models.CharField("text relay prefix", max_length=5, blank=True)
    email = models.EmailField()
    # Offers by text too, when the patient chose texts (as on CallbackRequest).
    text_consent_version = models.CharField("texts agreed (wording version)", max_length=20, blank=True)
    text_consent_given_at = models.DateTimeField("texts agreed at", null=True, blank=True)
    consent_version = models.CharField(max_length=20)
    consent_text_sha256 = models.CharField(max_length=64)
    consent_given_at = models.DateTimeField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.WAITING)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name_plural = "waitlist"
        indexes = [models.Index(fields=["service", "status", "created_at"], name="cb_waitlist_queue")]
        constraints = [
            models.CheckConstraint(condition=~Q(consent_version=""), name="cb_waitlist_consent_recorded"),
            models.CheckConstraint(
                condition=Q(text_consent_version="") | Q(text_consent_given_at__isnull=False),
                name="cb_waitlist_text_consent_has_time",
            ),
            models.CheckConstraint(condition=Q(weekdays__regex=r"^[0-6]*$"), name="cb_waitlist_weekdays"),
            models.CheckConstraint(condition=Q(phone__regex=r"^\+[1-9][0-9]{6,14}$"), name="cb_waitlist_phone_e164"),
        ]

    def __str__(self):
        return self.reference


class WaitlistOffer(models.Model):
    """A freed slot offered to one waitlisted patient. Several patients may be offered the same slot: the first
    to accept books it (the appointment's no-overlap guarantee decides), the others find it gone."""

    class Status(models.TextChoices):
        OFFERED = "offered", "Offered"
        ACCEPTED = "accepted", "Accepted"
        GONE = "gone", "Taken by someone else or expired"

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    practitioner = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField("starts")
    ends_at = models.DateTimeField("ends")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OFFERED)
    appointment = models.OneToOneField(
        Appointment, null=True, blank=True, on_delete=models.SET_NULL, related_name="waitlist_offer"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["practitioner", "starts_at"], name="cb_offer_slot")]
        constraints = [
            models.UniqueConstraint(fields=["entry", "practitioner", "starts_at"], name="cb_offer_once"),
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="cb_offer_order"),
        ]

    def __str__(self):
        return f"Offer {self.pk} to {self.entry_id} at {self.starts_at:%Y-%m-%d %H:%M} UTC"
