from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Priority(models.IntegerChoices):
    """Lower sorts first: the queue is ordered by priority, then deadline."""

    EMERGENCY = 1, "Emergency"
    URGENT = 2, "Urgent"
    REVIEW = 3, "Clinician review"
    ROUTINE = 4, "Routine"


class CallbackRequestQuerySet(models.QuerySet):
    def open(self):
        return self.exclude(status=CallbackRequest.Status.CLOSED)

    def awaiting_response(self):
        """Nobody has reached the patient yet: the response deadline still runs."""
        return self.filter(status__in=[CallbackRequest.Status.NEW, CallbackRequest.Status.IN_PROGRESS])

    def overdue(self, now=None):
        return self.awaiting_response().filter(deadline__lt=now or timezone.now())


class CallbackRequest(models.Model):
    class Kind(models.TextChoices):
        CALLBACK = "callback", "Callback"
        BOOKING = "booking", "Booking"

    class Status(models.TextChoices):
        NEW = "new", "New"
        IN_PROGRESS = "in_progress", "In progress"
        CONTACTED = "contacted", "Contacted"
        BOOKED = "booked", "Booked"
        CLOSED = "closed", "Closed"

    class Outcome(models.TextChoices):
        """Why a request was closed; only a closed request has one."""

        APPOINTMENT = "appointment", "Appointment booked"
        ADVICE = "advice", "Advice given by phone"
        REFERRED = "referred", "Referred elsewhere (GP, urgent care, A&E)"
        DECLINED = "declined", "No longer needed / declined"
        UNREACHABLE = "unreachable", "Could not reach the patient"
        WRONG_NUMBER = "wrong_number", "Wrong number"
        DUPLICATE = "duplicate", "Duplicate request"

    reference = models.CharField(max_length=12, unique=True, editable=False)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CALLBACK)
    name = models.CharField(max_length=120)
    phone = models.CharField(max_length=20, help_text="E.164, e.g. +447400123456")
    email = models.EmailField(blank=True)
    window_start = models.DateTimeField("preferred callback from")
    window_end = models.DateTimeField("preferred callback until")
    reason = models.TextField(max_length=2000)
    consent_version = models.CharField(max_length=20)
    consent_text_sha256 = models.CharField(max_length=64)
    consent_given_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.ROUTINE)
    deadline = models.DateTimeField(null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The intake questionnaire answered with this request (none for requests made before intake existed).
    questionnaire_response = models.OneToOneField(
        "intake.QuestionnaireResponse",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="callback_request",
    )
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    next_attempt_at = models.DateTimeField("next call attempt", null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CallbackRequestQuerySet.as_manager()

    class Meta:
        ordering = ["priority", "deadline", "created_at"]
        indexes = [
            models.Index(fields=["priority", "deadline", "created_at"], name="cb_queue_order"),
            models.Index(fields=["status"], name="cb_status"),
            models.Index(fields=["created_at"], name="cb_created"),
            models.Index(fields=["phone"], name="cb_phone"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(window_end__gt=models.F("window_start")), name="cb_window_order"),
            models.CheckConstraint(condition=~Q(consent_version=""), name="cb_consent_recorded"),
            models.CheckConstraint(condition=Q(outcome="") | Q(status="closed"), name="cb_outcome_only_closed"),
        ]
        permissions = [("export_callbackrequest", "Can export callback requests as CSV")]

    def __str__(self):
        return self.reference


class NotificationQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=Notification.Status.PENDING)


class Notification(models.Model):
    """One message to send, written in the same transaction as what it announces (a transactional outbox)."""

    class Kind(models.TextChoices):
        STAFF_NEW_REQUEST = "staff_new", "New request (staff)"
        PATIENT_CONFIRMATION = "patient_confirmation", "Confirmation (patient)"
        ESCALATION = "escalation", "Overdue escalation (staff)"

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        WEBHOOK = "webhook", "Webhook"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    request = models.ForeignKey(CallbackRequest, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    recipient = models.CharField(max_length=500)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    next_attempt_at = models.DateTimeField(
        default=timezone.now, help_text="When the queued message is due; the beat job re-queues it if it is overdue."
    )
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notif_due")]
        constraints = [
            # One of each kind per channel and request: an escalation or a confirmation goes out once.
            models.UniqueConstraint(fields=["request", "kind", "channel"], name="notif_once_per_kind"),
            models.CheckConstraint(condition=~Q(status="sent") | Q(sent_at__isnull=False), name="notif_sent_has_time"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} for {self.request_id} by {self.channel}"


class AppendOnlyModel(models.Model):
    """A record that is written once and never changed or deleted on its own (the database refuses it too).

    Rows go only when their request is deleted (the retention purge). No change or delete permission exists,
    so not even a superuser's admin can edit them.
    """

    class Meta:
        abstract = True
        default_permissions = ("add", "view")

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError(f"{type(self).__name__} rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError(f"{type(self).__name__} rows are append-only.")


class CallAttempt(AppendOnlyModel):
    """One phone call to the patient, and how it went."""

    class Outcome(models.TextChoices):
        NO_ANSWER = "no_answer", "No answer"
        VOICEMAIL = "voicemail", "Left a voicemail"
        REACHED = "reached", "Reached the patient"
        WRONG_NUMBER = "wrong_number", "Wrong number"

    request = models.ForeignKey(CallbackRequest, on_delete=models.CASCADE, related_name="call_attempts")
    # PROTECT: staff accounts are deactivated, not deleted, so the record keeps who called.
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    made_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    note = models.CharField(max_length=500, blank=True)

    class Meta(AppendOnlyModel.Meta):
        ordering = ["-made_at"]
        indexes = [models.Index(fields=["request", "made_at"], name="cb_attempt_request")]

    def __str__(self):
        return f"{self.get_outcome_display()} at {self.made_at:%Y-%m-%d %H:%M}"


class StaffNote(AppendOnlyModel):
    """An internal note on a request. Staff-only: never shown to the patient or sent anywhere."""

    request = models.ForeignKey(CallbackRequest, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    text = models.TextField(max_length=4000)

    class Meta(AppendOnlyModel.Meta):
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["request", "created_at"], name="cb_note_request")]
        constraints = [models.CheckConstraint(condition=~Q(text=""), name="cb_note_not_empty")]

    def __str__(self):
        return f"Note {self.pk} on {self.request_id}"


class RequestEvent(AppendOnlyModel):
    """The history of a request: who changed what, when, from which value to which. Written by the workflow
    services in the same transaction as the change itself; values are stored as staff read them."""

    class Action(models.TextChoices):
        ASSIGNED = "assigned", "Assignment"
        STATUS = "status", "Status change"
        CALL = "call", "Call attempt"
        NOTE = "note", "Note"
        SCHEDULED = "scheduled", "Next attempt scheduled"
        EDITED = "edited", "Edit"

    request = models.ForeignKey(CallbackRequest, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now, editable=False)
    action = models.CharField(max_length=12, choices=Action.choices)
    field = models.CharField(max_length=40, blank=True)
    before = models.TextField(blank=True)
    after = models.TextField(blank=True)

    class Meta(AppendOnlyModel.Meta):
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["request", "at"], name="cb_event_request")]

    def __str__(self):
        return f"{self.get_action_display()} on {self.request_id} at {self.at:%Y-%m-%d %H:%M}"
