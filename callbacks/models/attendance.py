"""The attendance figures' rollup: one row per clinic day (`callbacks.booking.attendance_days`)."""

from django.db import models


class AttendanceDay(models.Model):
    """What the attendance figures count on one clinic day, kept so that a period is read from a few hundred rows.

    ``version`` is raised, in the writer's transaction, by every change to something the day counts; ``figures``
    were counted from the tables when the version was ``counted_version``. The two differ (or figures are missing):
    the day is counted again before it is read.
    """

    day = models.DateField(unique=True)
    version = models.PositiveIntegerField(default=0)
    counted_version = models.PositiveIntegerField(null=True, blank=True)
    figures = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name = "attendance day"

    def __str__(self):
        return f"{self.day:%Y-%m-%d} (version {self.version}, counted {self.counted_version})"

    @property
    def current(self) -> bool:
        return self.figures is not None and self.counted_version == self.version
