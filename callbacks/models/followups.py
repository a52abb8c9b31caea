"""Outcome follow-ups: one row per request and per due time (weeks after it became a patient).

A row is written when the request becomes a patient (`callbacks.requests.followups.follow_up_schedule`), handed
to the outbox once when due (``sent_at``), and answered at most once through its signed link: the intake
`QuestionnaireResponse` it produced is kept here, so the staff chart reads a patient's scores over time from
these rows in ``weeks`` order.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from callbacks.models.requests import CallbackRequest
from callbacks.rules.followups import FollowUpStatus


class FollowUpQuerySet(models.QuerySet):
    def due(self, now=None):
        """Scheduled, due, and the patient has not stopped them."""
        return self.filter(
            status=FollowUpStatus.SCHEDULED,
            due_at__lte=now or timezone.now(),
            request__follow_ups_stopped_at__isnull=True,
        )

    def answered(self):
        return self.filter(status=FollowUpStatus.ANSWERED)


class FollowUp(models.Model):
    Status = FollowUpStatus

    request = models.ForeignKey(CallbackRequest, on_delete=models.CASCADE, related_name="follow_ups")
    weeks = models.PositiveSmallIntegerField(help_text="Weeks after the request became a patient.")
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    sent_at = models.DateTimeField(null=True, blank=True, help_text="When its e-mail was written to the outbox.")
    answered_at = models.DateTimeField(null=True, blank=True)
    # The answers, stored by intake with the definition version they answered. PROTECT: a response goes only
    # with its request (erasure and the retention purge delete the follow-ups first, then the responses).
    questionnaire_response = models.OneToOneField(
        "intake.QuestionnaireResponse",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="follow_up",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        ordering = ["request", "weeks"]
        indexes = [
            # The beat job's question: which scheduled follow-ups are due (small: sent ones drop out).
            models.Index(fields=["due_at"], condition=Q(status="scheduled"), name="followup_due_unsent"),
            models.Index(fields=["status", "answered_at"], name="followup_status_answered"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["request", "weeks"], name="followup_once_per_week"),
            models.CheckConstraint(condition=Q(weeks__gte=1), name="followup_weeks_positive"),
            models.CheckConstraint(
                condition=~Q(status__in=["sent", "answered"]) | Q(sent_at__isnull=False),
                name="followup_sent_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="answered") | Q(answered_at__isnull=False, questionnaire_response__isnull=False),
                name="followup_answered_has_response",
            ),
        ]

    def __str__(self):
        return f"Follow-up at {self.weeks} weeks for {self.request_id}"
