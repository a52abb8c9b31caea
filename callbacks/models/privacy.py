"""The privacy log: who saw, exported or erased a patient's data, and what the retention purge deleted."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from callbacks.models.requests import AppendOnlyModel, clinic_time_text


class PrivacyLogEntry(AppendOnlyModel):
    """Who saw, exported or erased a patient's health details, and what the retention purge deleted.

    Holds no personal data: the request is named by its reference as plain text (not a foreign key), so the
    entry outlives the request's erasure. A purge run is one entry with the number of requests it deleted; a
    reading or an export of the clinic's outcome report (figures about many patients, none named) is one entry
    naming its period in ``detail``.
    """

    class Action(models.TextChoices):
        VIEWED = "viewed", "Viewed health details"
        LISTED = "listed", "Listed with name or priority on a staff page"
        EXPORTED = "exported", "Exported patient data"
        ERASED = "erased", "Erased patient data"
        PURGED = "purged", "Purged by retention"
        REPORTED = "reported", "Read or exported the outcome report"
        FOLLOW_UP_SENT = "follow_up", "Sent a follow-up questionnaire on request"

    action = models.CharField(max_length=10, choices=Action.choices)
    reference = models.CharField(max_length=12, blank=True, help_text="Empty for a retention purge run.")
    # Null only for the retention purge, which no person runs. PROTECT: accounts are deactivated, not deleted.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now, editable=False)
    count = models.PositiveIntegerField(null=True, blank=True, help_text="Requests deleted by a purge run.")
    detail = models.CharField(
        max_length=60, blank=True, default="", help_text="What an entry about no single request covered."
    )

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
                condition=Q(action="purged", count__isnull=False, reference="", detail="")
                | Q(action="reported", count__isnull=True, reference="", actor__isnull=False) & ~Q(detail="")
                | (
                    ~Q(action__in=["purged", "reported"])
                    & Q(count__isnull=True, detail="", actor__isnull=False)
                    & ~Q(reference="")
                ),
                name="cb_privacy_entry_shape",
            ),
        ]

    def __str__(self):
        subject = self.reference or self.detail or f"{self.count} requests"
        return f"{self.get_action_display()}: {subject} at {clinic_time_text(self.at)}"
