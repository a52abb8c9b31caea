from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators
from django.db import connections, models
from django.db.models import Q
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from callbacks.rules.booking import APPOINTMENT_HOLDING_STATUSES, AppointmentStatus
from callbacks.rules.requests import (
    AWAITING_RESPONSE_STATUSES,
    CallOutcome,
    Priority,
    RequestOutcome,
    RequestStatus,
    priority_is_urgent,
)
from clinic.hours import clinic_zone


def _clinic_time(value) -> str:
    """A stored (UTC) time as staff read it: the clinic's wall-clock time and zone."""
    local = timezone.localtime(value, clinic_zone())
    return f"{local:%a %d %b %Y, %H:%M} {local.tzname()}"


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
    email = models.EmailField(blank=True)
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
            models.CheckConstraint(condition=Q(phone__regex=r"^\+[1-9][0-9]{6,14}$"), name="cb_phone_e164"),
            models.CheckConstraint(condition=~Q(consent_version=""), name="cb_consent_recorded"),
            models.CheckConstraint(condition=Q(outcome="") | Q(status="closed"), name="cb_outcome_only_closed"),
            # A consent given by phone names the member of staff who heard it.
            models.CheckConstraint(
                condition=Q(consent_method="online") | Q(consent_recorded_by__isnull=False),
                name="cb_phone_consent_recorded_by",
            ),
        ]
        permissions = [
            ("export_callbackrequest", "Can export callback requests as CSV"),
            ("export_patient_data", "Can download one patient's data"),
            ("erase_patient_data", "Can erase one patient's data"),
            ("view_consent_proof", "Can see the hash of the consent text a patient agreed to"),
        ]

    def __str__(self):
        return self.reference


class NotificationQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=Notification.Status.PENDING)


# Kinds sent once per move, so possibly several times for one request.
REPEATABLE_KINDS = ("booking_rescheduled", "booking_moved")


class Notification(models.Model):
    """One message to send, written in the same transaction as what it announces (a transactional outbox)."""

    class Kind(models.TextChoices):
        STAFF_NEW_REQUEST = "staff_new", "New request (staff)"
        PATIENT_CONFIRMATION = "patient_confirmation", "Confirmation (patient)"
        ESCALATION = "escalation", "Overdue escalation (staff)"
        BOOKING_CONFIRMED = "booking_confirmed", "Appointment confirmed (patient)"
        BOOKING_DECLINED = "booking_declined", "Appointment declined (patient)"
        BOOKING_REMINDER = "booking_reminder", "Appointment reminder (patient)"
        BOOKING_CANCELLED = "booking_cancelled", "Appointment cancelled by the patient (staff)"
        BOOKING_CANCELLED_BY_CLINIC = "booking_cancelled_clinic", "Appointment cancelled by the clinic (patient)"
        BOOKING_RESCHEDULED = "booking_rescheduled", "Appointment moved by the patient (staff)"
        BOOKING_MOVED = "booking_moved", "Appointment moved (patient)"
        WAITLIST_OFFER = "waitlist_offer", "Waitlist offer (patient)"

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        WEBHOOK = "webhook", "Webhook"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    # A notification announces a request, or (for a waitlist offer, before any request exists) an offer.
    request = models.ForeignKey(
        CallbackRequest, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    waitlist_offer = models.ForeignKey(
        "WaitlistOffer", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
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
            # A move can happen more than once; each one is announced (the kinds below are left out).
            models.UniqueConstraint(
                fields=["request", "kind", "channel"],
                condition=~Q(kind__in=REPEATABLE_KINDS),
                name="notif_once_per_kind",
            ),
            models.UniqueConstraint(fields=["waitlist_offer", "kind", "channel"], name="notif_offer_once"),
            models.CheckConstraint(
                condition=Q(request__isnull=False, waitlist_offer__isnull=True)
                | Q(request__isnull=True, waitlist_offer__isnull=False),
                name="notif_one_subject",
            ),
            models.CheckConstraint(condition=~Q(status="sent") | Q(sent_at__isnull=False), name="notif_sent_has_time"),
        ]

    def __str__(self):
        subject = self.request_id if self.request_id else f"offer {self.waitlist_offer_id}"
        return f"{self.get_kind_display()} for {subject} by {self.channel}"


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
        return f"{self.get_outcome_display()} at {_clinic_time(self.made_at)}"


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
        return f"{self.get_action_display()} on {self.request_id} at {_clinic_time(self.at)}"


class PrivacyLogEntry(AppendOnlyModel):
    """Who saw, exported or erased a patient's health details, and what the retention purge deleted.

    Holds no personal data: the request is named by its reference as plain text (not a foreign key), so the
    entry outlives the request's erasure. A purge run is one entry with the number of requests it deleted.
    """

    class Action(models.TextChoices):
        VIEWED = "viewed", "Viewed health details"
        EXPORTED = "exported", "Exported patient data"
        ERASED = "erased", "Erased patient data"
        PURGED = "purged", "Purged by retention"

    action = models.CharField(max_length=10, choices=Action.choices)
    reference = models.CharField(max_length=12, blank=True, help_text="Empty for a retention purge run.")
    # Null only for the retention purge, which no person runs. PROTECT: accounts are deactivated, not deleted.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now, editable=False)
    count = models.PositiveIntegerField(null=True, blank=True, help_text="Requests deleted by a purge run.")

    class Meta(AppendOnlyModel.Meta):
        ordering = ["-at", "-pk"]
        verbose_name = "privacy log entry"
        verbose_name_plural = "privacy log"
        indexes = [
            models.Index(fields=["reference", "at"], name="cb_privacy_reference"),
            models.Index(fields=["at"], name="cb_privacy_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(action="purged", count__isnull=False, reference="")
                | (~Q(action="purged") & Q(count__isnull=True) & ~Q(reference="") & Q(actor__isnull=False)),
                name="cb_privacy_entry_shape",
            ),
        ]

    def __str__(self):
        subject = self.reference or f"{self.count} requests"
        return f"{self.get_action_display()}: {subject} at {_clinic_time(self.at)}"


# Booking


class Service(models.Model):
    """Something a patient can book, such as an initial assessment, with how long it takes."""

    name = models.CharField(max_length=80, unique=True)
    description = models.CharField(max_length=300, blank=True, help_text="One line shown to patients.")
    duration_minutes = models.PositiveSmallIntegerField(help_text="Length of one appointment, in minutes.")
    active = models.BooleanField(default=True, help_text="Only active services can be booked.")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=5, duration_minutes__lte=480), name="cb_service_duration_sane"
            ),
        ]

    def __str__(self):
        return self.name


class Practitioner(models.Model):
    name = models.CharField(max_length=120)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="practitioner"
    )
    services = models.ManyToManyField(Service, related_name="practitioners", blank=True)
    active = models.BooleanField(default=True, help_text="Inactive practitioners are not offered to patients.")
    # SHA-256 of the secret in the practitioner's calendar feed address; the secret itself is shown once.
    calendar_feed_digest = models.CharField(max_length=64, blank=True, editable=False, db_index=True, db_default="")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class WorkingHours(models.Model):
    """A weekly block of bookable time, in the clinic's local time (a 09:00 start stays 09:00 across DST)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField("from")
    end = models.TimeField("until")

    class Meta:
        ordering = ["practitioner", "weekday", "start"]
        verbose_name_plural = "working hours"
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="cb_hours_order"),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="cb_hours_weekday"),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"


class AvailabilityException(models.Model):
    """Time a practitioner cannot be booked although their weekly hours say otherwise."""

    class Reason(models.TextChoices):
        HOLIDAY = "holiday", "Holiday"
        LEAVE = "leave", "Leave"
        BLOCKED = "blocked", "Blocked"

    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="exceptions")
    start = models.DateTimeField("from")
    end = models.DateTimeField("until")
    reason = models.CharField(max_length=10, choices=Reason.choices, default=Reason.BLOCKED)
    note = models.CharField(max_length=200, blank=True, help_text="Staff only.")

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["practitioner", "start", "end"], name="cb_exception_span")]
        constraints = [models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="cb_exception_order")]

    def __str__(self):
        return f"{self.get_reason_display()}: {self.practitioner} from {_clinic_time(self.start)}"


class TsTzRange(models.Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class PostgresExclusionConstraint(ExclusionConstraint):
    """An exclusion constraint on PostgreSQL; elsewhere nothing (SQLite gets triggers in migration 0006)."""

    def constraint_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().constraint_sql(model, schema_editor)

    def create_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().create_sql(model, schema_editor)

    def remove_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().remove_sql(model, schema_editor)

    def validate(self, model, instance, exclude=None, using="default"):
        if connections[using].vendor == "postgresql":
            super().validate(model, instance, exclude=exclude, using=using)


class AppointmentQuerySet(models.QuerySet):
    def holding(self):
        return self.filter(status__in=APPOINTMENT_HOLDING_STATUSES)


class Appointment(models.Model):
    """A practitioner's time held for one patient's booking request. Times are stored in UTC.

    No two holding (requested or confirmed) appointments of one practitioner can overlap: PostgreSQL refuses it
    with an exclusion constraint, SQLite with triggers (both created by migration 0006_booking). Writers rely on
    the IntegrityError, never on a check made beforehand.
    """

    Status = AppointmentStatus

    practitioner = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="appointments")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="appointments")
    starts_at = models.DateTimeField("starts")
    ends_at = models.DateTimeField("ends")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    request = models.OneToOneField(CallbackRequest, on_delete=models.CASCADE, related_name="appointment")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    # Raised each time the patient moves the appointment: the calendar event's SEQUENCE grows with it, and a
    # reschedule link names the revision it was sent for, so it works once.
    revision = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["practitioner", "starts_at"], name="cb_appointment_diary"),
            models.Index(fields=["status", "starts_at"], name="cb_appointment_status"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="cb_appointment_order"),
            PostgresExclusionConstraint(
                name="cb_appointment_no_overlap",
                expressions=[
                    ("practitioner", RangeOperators.EQUAL),
                    (TsTzRange("starts_at", "ends_at", RangeBoundary()), RangeOperators.OVERLAPS),
                ],
                condition=Q(status__in=APPOINTMENT_HOLDING_STATUSES),
                violation_error_message="The practitioner already has an appointment at that time.",
            ),
        ]

    def __str__(self):
        return f"{self.service} with {self.practitioner} at {_clinic_time(self.starts_at)}"

    @property
    def flagged(self) -> bool:
        """Emergency or urgent triage: staff must look at the intake before confirming."""
        return priority_is_urgent(self.request.priority)


class ClinicClosure(models.Model):
    """Whole days the clinic is closed beyond the bank holidays (which come from the `holidays` package): no
    slot is offered and the response deadline does not run on them."""

    first_day = models.DateField("closed from")
    last_day = models.DateField("closed until", help_text="The last closed day (inclusive).")
    reason = models.CharField(max_length=120, help_text="Staff only, e.g. staff training.")

    class Meta:
        ordering = ["first_day"]
        constraints = [
            models.CheckConstraint(condition=Q(last_day__gte=models.F("first_day")), name="cb_closure_order"),
        ]

    def __str__(self):
        if self.first_day == self.last_day:
            return f"{self.first_day:%Y-%m-%d}: {self.reason}"
        return f"{self.first_day:%Y-%m-%d} to {self.last_day:%Y-%m-%d}: {self.reason}"


# Waitlist


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
    phone = models.CharField(max_length=20, help_text="E.164, e.g. +447400123456")
    email = models.EmailField()
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
            models.CheckConstraint(condition=Q(weekdays__regex=r"^[0-6]*$"), name="cb_waitlist_weekdays"),
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
