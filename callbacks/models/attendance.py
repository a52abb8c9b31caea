"""The attendance figures' rollup: one row per clinic day (`callbacks.booking.attendance_days`)."""

from django.db import models
from django.db.models import Exists, OuterRef


class AttendanceDayChange(models.Model):
    """A change to something a clinic day counts, written (insert only) in the writer's own transaction.

    Writers only ever add rows here, so they take no lock another writer could wait for; the counter deletes the
    rows it read once it has stored the day's count. A day with a row here is counted again before it is read."""

    day = models.DateField(db_index=True)

    class Meta:
        verbose_name = "attendance day change"

    def __str__(self):
        return f"{self.day:%Y-%m-%d} changed"


class AttendanceDayQuerySet(models.QuerySet):
    def _changed(self):
        return Exists(AttendanceDayChange.objects.filter(day=OuterRef("day")))

    def current(self):
        """Days whose stored figures are what counting them now would give."""
        return self.filter(figures__isnull=False).exclude(self._changed())

    def stale(self):
        return self.filter(models.Q(figures__isnull=True) | self._changed())


class AttendanceDay(models.Model):
    """What the attendance figures count on one clinic day, kept so that a period is read from a few hundred rows.

    ``figures`` were counted from the tables; the day is stale (counted again before it is read) while a change
    to it (`AttendanceDayChange`) waits, or before it was first counted. Only the counters write these rows."""

    day = models.DateField(unique=True)
    figures = models.JSONField(null=True, blank=True)

    objects = AttendanceDayQuerySet.as_manager()

    class Meta:
        verbose_name = "attendance day"

    def __str__(self):
        return f"{self.day:%Y-%m-%d}"

    @property
    def current(self) -> bool:
        return self.figures is not None and not AttendanceDayChange.objects.filter(day=self.day).exists()
