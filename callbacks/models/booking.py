"""What can be booked, with whom and when: services, practitioners, their hours and exceptions,
appointments (never two holding one practitioner's time at once) and the clinic's closed days."""

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators
from django.db import connections, models
from django.db.models import Q
from django.utils import timezone

from callbacks.models.requests import CallbackRequest, clinic_time_text
from callbacks.rules.booking import (
    APPOINTMENT_HOLDING_STATUSES,
    AppointmentAttendance,
    AppointmentStatus,
    appointment_status_holds_time,
)
from callbacks.rules.requests import (
    priority_is_urgent,
)


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
        return f"{self.get_reason_display()}: {self.practitioner} from {clinic_time_text(self.start)}"


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


class CourseOfCare(models.Model):
    """Sessions booked together at a cadence (`callbacks.booking.courses`): each session is an appointment with its
    own booking request, reference, links and calendar event, moved or cancelled on its own; the course links
    them, so the rest can be cancelled in one action."""

    class Cadence(models.TextChoices):
        WEEKLY = "weekly", "Weekly"
        TWICE_WEEKLY = "twice_weekly", "Twice weekly"

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    practitioner = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="+")
    cadence = models.CharField(max_length=12, choices=Cadence.choices)
    sessions_asked = models.PositiveSmallIntegerField("sessions asked for")
    # The first session's request: the one that carries the course's outcome follow-ups and its e-mail.
    first_request = models.ForeignKey(
        CallbackRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "course of care"
        verbose_name_plural = "courses of care"
        constraints = [
            models.CheckConstraint(
                condition=Q(sessions_asked__gte=2, sessions_asked__lte=52), name="cb_course_sessions_sane"
            ),
        ]

    def __str__(self):
        return f"{self.get_cadence_display()} {self.service} with {self.practitioner}"


class Appointment(models.Model):
    """A practitioner's time held for one patient's booking request. Times are stored in UTC.

    No two holding (requested or confirmed) appointments of one practitioner can overlap: PostgreSQL refuses it
    with an exclusion constraint, SQLite with triggers (both created by migration 0006_booking). Writers rely on
    the IntegrityError, never on a check made beforehand.
    """

    Status = AppointmentStatus
    Attendance = AppointmentAttendance

    practitioner = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="appointments")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="appointments")
    starts_at = models.DateTimeField("starts")
    ends_at = models.DateTimeField("ends")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    request = models.OneToOneField(CallbackRequest, on_delete=models.CASCADE, related_name="appointment")
    # A session of a course of care; none for a single booking.
    course = models.ForeignKey(
        CourseOfCare, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments", editable=False
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    # A cancellation by the front desk: why (staff's words, never sent to the patient), and until when it can be
    # undone. While ``cancel_undo_until`` is set the patient's e-mail waits in the outbox as held and the time is
    # not yet offered to the waitlist (`callbacks.booking.desk`); the beat job releases both once it has passed.
    cancel_reason = models.CharField(max_length=200, blank=True)
    cancel_undo_until = models.DateTimeField(null=True, blank=True)
    # The status an undone cancellation returns to (requested or confirmed).
    status_before_cancel = models.CharField(max_length=10, blank=True)
    # When the patient said they will come (a "C" or "YES" reply to a text); cleared by a move.
    patient_confirmed_at = models.DateTimeField("patient confirmed", null=True, blank=True, editable=False)
    # Raised each time the appointment moves (the patient's link or the front desk): a reschedule link names the
    # revision it was sent for, so it works once.
    revision = models.PositiveIntegerField(default=0, editable=False)
    # The SEQUENCE of the last calendar file sent for this appointment (0 with the first e-mail), raised by every
    # change that sends the patient a new file (`callbacks.booking.calendar.appointment_calendar_change`), so the
    # files a patient receives for one UID only ever go up, whatever the mix of confirm, moves and cancel.
    calendar_sequence = models.PositiveIntegerField(default=0, editable=False)
    # What became of the visit (`callbacks.booking.attendance`): the latest mark, who made it and when; every mark,
    # corrections included, is in the request's history.
    attendance = models.CharField(max_length=12, choices=Attendance.choices, blank=True, default="")
    attendance_marked_at = models.DateTimeField(null=True, blank=True, editable=False)
    attendance_marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["practitioner", "starts_at"], name="cb_appointment_diary"),
            models.Index(fields=["status", "starts_at"], name="cb_appointment_status"),
            # The attendance figures of a period (did-not-attend rate by service and weekday) read this alone.
            models.Index(fields=["starts_at", "service", "attendance"], name="cb_appointment_attendance"),
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
        return f"{self.service} with {self.practitioner} at {clinic_time_text(self.starts_at)}"

    @property
    def holds_time(self) -> bool:
        """Requested or confirmed: the practitioner's time is held, and it can still be cancelled or moved."""
        return appointment_status_holds_time(self.status)

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
