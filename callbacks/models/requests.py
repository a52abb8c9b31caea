"""A patient's request (callback or booking) and what staff record on it: calls, notes, its history."""

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from callbacks.rules.requests import (
    AWAITING_RESPONSE_STATUSES,
    CallOutcome,
    Priority,
    RequestOutcome,
    RequestStatus,
)
from clinic.hours import clinic_zone


def clinic_time_text(value) -> str:
    """A stored (UTC) time as staff read it: the clinic's wall-clock time and zone."""
    local = timezone.localtime(value, clinic_zone())
    return f"{local:%a %d %b %Y, %H:%M} {local.tzname()}"


class PostgresTrigramIndex(GinIndex):
    """A trigram index (pg_trgm) on `expression` on PostgreSQL; elsewhere (SQLite has neither GIN nor pg_trgm)
    a plain index on the same expression, so that migrations and table rebuilds work on every database."""

    def __init__(self, expression, *, name):
        super().__init__(OpClass(expression, name="gin_trgm_ops"), name=name)

    def deconstruct(self):
        path, _, kwargs = super().deconstruct()
        (expression,) = self.expressions
        return path, (expression.source_expressions[0],), {"name": kwargs["name"]}

    def _plain(self) -> models.Index:
        (expression,) = self.expressions
        return models.Index(expression.source_expressions[0], name=self.name)

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return self._plain().create_sql(model, schema_editor, using=using, **kwargs)
        return super().create_sql(model, schema_editor, using=using, **kwargs)

    def remove_sql(self, model, schema_editor, **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return self._plain().remove_sql(model, schema_editor, **kwargs)
        return super().remove_sql(model, schema_editor, **kwargs)


class CallbackRequestQuerySet(models.QuerySet):
    def open(self):
        return self.exclude(status=CallbackRequest.Status.CLOSED)

    def awaiting_response(self):
        """Nobody has reached the patient yet: the response deadline still runs."""
        return self.filter(status__in=AWAITING_RESPONSE_STATUSES)

    def overdue(self, now=None):
        return self.awaiting_response().filter(deadline__lt=now or timezone.now())


class ConsentMethod(models.TextChoices):
    ONLINE = "online", "Online, by the patient (ticked on the form)"
    PHONE = "phone", "By phone, told to a member of staff"


class CallbackRequest(models.Model):
    class Kind(models.TextChoices):
        CALLBACK = "callback", "Callback"
        BOOKING = "booking", "Booking"

    Status = RequestStatus
    Outcome = RequestOutcome

    reference = models.CharField(max_length=12, unique=True, editable=False)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CALLBACK)
    name = models.CharField(max_length=120)
    # Stored in E.164 whatever form it is given in (PhoneNumberField normalises; the check constraint refuses
    # anything else), so a number is always found under one spelling.
    phone = PhoneNumberField(max_length=20, help_text="E.164, e.g. +447400123456")
    # A UK text-relay prefix (18001, 18002) the patient typed before the number, kept as given: staff call the
    # number through Relay UK by dialling it first; texts go to the number itself.
    phone_relay_prefix = models.CharField("text relay prefix", max_length=5, blank=True)
    email = models.EmailField(blank=True)
    # The patient's choice of texts on the details page, recorded like the data consent: the version of the words
    # they saw and when (empty: no texts). Texts go only to a mobile number (`callbacks.notifications.routing`).
    text_consent_version = models.CharField("texts agreed (wording version)", max_length=20, blank=True)
    text_consent_given_at = models.DateTimeField("texts agreed at", null=True, blank=True)
    window_start = models.DateTimeField("preferred callback from")
    window_end = models.DateTimeField("preferred callback until")
    reason = models.TextField(max_length=2000)
    consent_version = models.CharField(max_length=20)
    consent_text_sha256 = models.CharField(max_length=64)
    consent_given_at = models.DateTimeField()
    consent_method = models.CharField(
        "consent given",
        max_length=10,
        choices=ConsentMethod.choices,
        default=ConsentMethod.ONLINE,
    )
    # Who wrote down a consent given by phone; PROTECT: staff accounts are deactivated, not deleted.
    consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.ROUTINE)
    deadline = models.DateTimeField(null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The person this request is from (`callbacks.patients`): every request gets one when it arrives; none only
    # for a request stored before patients existed and not yet given one (the bench's raw fill).
    patient_record = models.ForeignKey(
        "callbacks.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="requests"
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
    # Kept by `callbacks.requests.workflow.call_attempt_log` in the call's transaction, so the queue shows the
    # attempts, filters "not yet called" and says who is calling without counting the calls of every row.
    calls_logged = models.PositiveIntegerField("calls logged", default=0, db_default=0, editable=False)
    last_call_at = models.DateTimeField("last call logged", null=True, blank=True, editable=False)
    last_call_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set when the patient stops the outcome follow-up e-mails (their one-click link); none is sent after it.
    follow_ups_stopped_at = models.DateTimeField("follow-ups stopped", null=True, blank=True, editable=False)
    # The patient's journey (the flow id of the pages that sent it), so that a second send of the same journey
    # (a double click, two tabs, a resubmit) finds this request instead of storing another; none for staff's.
    idempotency_key = models.CharField(max_length=64, blank=True, default="", editable=False)
    # When staff first reached the patient (a call logged as reached, or "contacted" with a reason), for the
    # attendance figures' days from request to first contact; set once (`callbacks.requests.workflow`).
    first_contact_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CallbackRequestQuerySet.as_manager()

    class Meta:
        ordering = ["priority", "deadline", "created_at"]
        indexes = [
            models.Index(fields=["priority", "deadline", "created_at"], name="cb_queue_order"),
            models.Index(fields=["status"], name="cb_status"),
            models.Index(fields=["created_at"], name="cb_created"),
            # The attendance figures of a period read the days from request to first contact, and the requests
            # their appointments join, from this index alone (docs/BENCHMARKS.md).
            models.Index(fields=["created_at", "first_contact_at", "id"], name="cb_first_contact"),
            models.Index(fields=["phone"], name="cb_phone"),
            # The staff queue with a clinic's whole history in the table (docs/BENCHMARKS.md, 1,000,000 requests):
            # the open requests in the queue's order, for one staff member's own, and the overdue ones, each
            # small because closed requests stay out. They include the questionnaire response, which the queue's
            # red-flag column joins, so PostgreSQL counts a page's rows from the index alone; the first also
            # carries what the admin home counts among open requests (callbacks.requests.selectors).
            models.Index(
                fields=["priority", "deadline", "created_at", "id"],
                include=["questionnaire_response", "status", "assigned_to", "calls_logged"],
                condition=~Q(status="closed"),
                name="cb_open_queue",
            ),
            models.Index(
                fields=["assigned_to", "priority", "deadline", "created_at", "id"],
                include=["questionnaire_response"],
                condition=~Q(status="closed"),
                name="cb_open_assigned",
            ),
            models.Index(
                fields=["deadline"],
                include=["questionnaire_response"],
                condition=Q(status__in=AWAITING_RESPONSE_STATUSES),
                name="cb_awaiting_deadline",
            ),
            # The admin's search matches any part of a reference, name or phone number (case-insensitive
            # `LIKE '%...%'`): trigram indexes (pg_trgm) answer that without reading the table.
            PostgresTrigramIndex(Upper("reference"), name="cb_reference_trgm"),
            PostgresTrigramIndex(Upper("name"), name="cb_name_trgm"),
            PostgresTrigramIndex(Upper("phone"), name="cb_phone_trgm"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(window_end__gt=models.F("window_start")), name="cb_window_order"),
            models.CheckConstraint(condition=Q(phone__regex=r"^\+[1-9][0-9]{6,14}$"), name="cb_phone_e164"),
            models.CheckConstraint(condition=~Q(consent_version=""), name="cb_consent_recorded"),
            models.CheckConstraint(
                condition=Q(text_consent_version="") | Q(text_consent_given_at__isnull=False),
                name="cb_text_consent_has_time",
            ),
            models.CheckConstraint(condition=Q(phone_relay_prefix__in=["", "18001", "18002"]), name="cb_relay_prefix"),
            models.CheckConstraint(condition=Q(outcome="") | Q(status="closed"), name="cb_outcome_only_closed"),
            # A consent given by phone names the member of staff who heard it.
            models.CheckConstraint(
                condition=Q(consent_method="online") | Q(consent_recorded_by__isnull=False),
                name="cb_phone_consent_recorded_by",
            ),
            # One request per journey, decided by the database: two sends racing cannot both insert.
            models.UniqueConstraint(
                fields=["idempotency_key"], condition=~Q(idempotency_key=""), name="cb_one_request_per_journey"
            ),
        ]
        permissions = [
            ("export_callbackrequest", "Can export callback requests as CSV"),
            ("export_patient_data", "Can download one patient's data"),
            ("erase_patient_data", "Can erase one patient's data"),
            ("view_consent_proof", "Can see the hash of the consent text a patient agreed to"),
            ("view_outcome_report", "Can see the clinic's outcome report (figures, no patient named)"),
        ]

    def __str__(self):
        return self.reference


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

    Outcome = CallOutcome

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
        return f"{self.get_outcome_display()} at {clinic_time_text(self.made_at)}"


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
        EXPORTED = "exported", "Patient data downloaded"
        FOLLOW_UP = "follow_up", "Outcome follow-up"
        ATTENDANCE = "attendance", "Attendance"

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
        return f"{self.get_action_display()} on {self.request_id} at {clinic_time_text(self.at)}"
