"""What the text provider tells us: the patients' texts to the clinic, and receipts for the texts we sent."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from callbacks.models.requests import CallbackRequest, clinic_time_text
from callbacks.rules.replies import ReplyIntent


class InboundText(models.Model):
    """One text a patient sent to the clinic's number, stored once whatever the provider's retries (its id at the
    provider is unique). The body is read by staff on the request's page only; logs name the row's id."""

    Intent = ReplyIntent

    class Outcome(models.TextChoices):
        CONFIRMED = "confirmed", "Appointment confirmed"
        CANCELLED = "cancelled", "Appointment cancelled"
        NO_APPOINTMENT = "no_appointment", "No appointment it could change"
        UNCLEAR = "unclear", "Unclear which appointment: for staff"
        STOPPED = "stopped", "Texts stopped"
        STARTED = "started", "Texts started again"
        FOR_STAFF = "for_staff", "For staff to read"

    provider_sid = models.CharField(max_length=64, unique=True, editable=False)
    # As the provider gave it (E.164 from Twilio); a UK text-relay number (18001...) is kept as given.
    from_phone = models.CharField(max_length=32, db_index=True)
    body = models.TextField(max_length=1600, blank=True)
    received_at = models.DateTimeField(default=timezone.now, editable=False)
    # The number's live request when the text came; none for a number no request has (staff see those in a list).
    request = models.ForeignKey(
        CallbackRequest, null=True, blank=True, on_delete=models.CASCADE, related_name="inbound_texts"
    )
    intent = models.CharField(max_length=10, choices=Intent.choices)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    # Whether reading it for red flags raised the request's priority.
    raised_priority = models.BooleanField(default=False)
    # A text for staff waits in the queue as "new text" until someone opens its request (or the list of texts).
    seen_at = models.DateTimeField(null=True, blank=True)
    seen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-received_at"]
        verbose_name = "text from a patient"
        verbose_name_plural = "texts from patients"
        indexes = [
            models.Index(fields=["request", "received_at"], name="cb_inbound_request"),
            models.Index(fields=["received_at"], condition=Q(seen_at__isnull=True), name="cb_inbound_unseen"),
        ]

    def __str__(self):
        return f"Text {self.pk} received {clinic_time_text(self.received_at)}"


class TextReceipt(models.Model):
    """One delivery receipt from the provider for one text we sent. The provider may send a receipt more than
    once: (message, status) is unique, so it is stored, counted and acted on once."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        UNDELIVERED = "undelivered", "Undelivered"
        FAILED = "failed", "Failed"

    provider_message_id = models.CharField(max_length=64, editable=False)
    status = models.CharField(max_length=12, choices=Status.choices)
    # The provider's error code for a failed or undelivered text (Twilio's 30003 "unreachable", ...).
    error_code = models.CharField(max_length=10, blank=True)
    received_at = models.DateTimeField(default=timezone.now, editable=False)
    # The outbox row of the text; none when the provider reports a message we have no record of.
    notification = models.ForeignKey(
        "Notification", null=True, blank=True, on_delete=models.CASCADE, related_name="receipts"
    )

    class Meta:
        ordering = ["received_at", "pk"]
        indexes = [models.Index(fields=["status", "received_at"], name="cb_receipt_status")]
        constraints = [
            models.UniqueConstraint(fields=["provider_message_id", "status"], name="cb_receipt_once"),
        ]

    def __str__(self):
        return f"{self.get_status_display()} for {self.provider_message_id}"
