"""Outcome follow-ups: what state one can be in, when a request has become a patient, and when each is due.

The schedule is ``settings.CLINIC_FOLLOW_UP_WEEKS`` (weeks after the request became a patient, read at start-up by
`clinic.setting_parsers.follow_up_weeks_parse`); these rules are the one place that uses it.
"""

import datetime as dt

from django.db import models

from callbacks.rules.requests import RequestOutcome, RequestStatus


class FollowUpStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    SENT = "sent", "Sent (handed to the outbox)"
    ANSWERED = "answered", "Answered"
    STOPPED = "stopped", "Stopped by the patient"
    SKIPPED = "skipped", "Not sent (no e-mail address)"


# A follow-up in one of these states will never be sent again and never be answered.
FOLLOW_UP_FINAL_STATUSES = (FollowUpStatus.ANSWERED, FollowUpStatus.STOPPED, FollowUpStatus.SKIPPED)


def request_is_patient(*, status: str, outcome: str = "") -> bool:
    """A request has become a patient once it is booked, or closed because an appointment was made."""
    return status == RequestStatus.BOOKED or (status == RequestStatus.CLOSED and outcome == RequestOutcome.APPOINTMENT)


def follow_up_due_at(*, started_at: dt.datetime, weeks: int) -> dt.datetime:
    return started_at + dt.timedelta(weeks=weeks)
