"""When new online callback requests are taken: opening hours, a daily cap and a suspension (one row, edited by
staff), and the per-day count of places taken against the cap (`callbacks.requests.capacity`)."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from clinic.hours import parse_opening_hours

SINGLETON_ID = 1


def validate_request_hours(value: str) -> None:
    if value.strip():
        try:
            parse_opening_hours(value)
        except ValueError as exc:
            raise ValidationError(str(exc).removeprefix("Opening hours: ")) from None


class IntakeCapacity(models.Model):
    """The one row of capacity settings (id 1). Until staff first save it, the environment's values apply."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)
    hours = models.CharField(
        "hours online requests are taken",
        max_length=200,
        blank=True,
        validators=[validate_request_hours],
        help_text='Per weekday, in the clinic\'s time, e.g. "mon-fri 08:00-17:00; sat 09:00-12:00". Days not '
        "listed are closed. Leave empty to take requests at any time.",
    )
    daily_cap = models.PositiveIntegerField(
        "routine requests per day",
        null=True,
        blank=True,
        help_text="The most routine online requests taken each day (midnight to midnight). Urgent and emergency "
        "requests are never refused and not counted. Leave empty for no limit.",
    )
    suspended_from = models.DateTimeField("paused from", null=True, blank=True, help_text="Empty: at once.")
    suspended_until = models.DateTimeField(
        "paused until", null=True, blank=True, help_text="Online requests open again at this time. Empty: no pause."
    )
    suspension_reason = models.CharField(
        "reason for the pause",
        max_length=160,
        blank=True,
        help_text='Shown to patients, e.g. "Our team is at a training day". No patient details.',
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "online request capacity"
        constraints = [
            models.CheckConstraint(condition=Q(id=SINGLETON_ID), name="cb_capacity_single_row"),
            models.CheckConstraint(
                condition=Q(suspended_from__isnull=True)
                | Q(suspended_until__isnull=True)
                | Q(suspended_until__gt=models.F("suspended_from")),
                name="cb_capacity_pause_order",
            ),
        ]

    def __str__(self):
        return "Online request capacity"

    def clean(self):
        if self.suspended_until is None and (self.suspended_from or self.suspension_reason):
            raise ValidationError({"suspended_until": "Give the date and time online requests open again."})
        if self.suspended_until is not None and not self.suspension_reason.strip():
            raise ValidationError({"suspension_reason": "Give a short reason: patients see it."})
        if self.suspended_from and self.suspended_until and self.suspended_until <= self.suspended_from:
            raise ValidationError({"suspended_until": "The pause must end after it starts."})


class RequestDayCount(models.Model):
    """Routine online requests taken on one day (the clinic's date): the counter the cap is checked against,
    raised by a conditional UPDATE so that two sends never take the same last place."""

    day = models.DateField(unique=True)
    routine = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.day:%Y-%m-%d}: {self.routine}"
