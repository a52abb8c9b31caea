"""Outcome follow-ups: what state one can be in, and when each is due (counted from the first attended visit).

The schedule is ``settings.CLINIC_FOLLOW_UP_WEEKS`` (weeks after the patient's first attended visit, read at
start-up by `clinic.setting_parsers.follow_up_weeks_parse`).
"""

import datetime as dt

from django.db import models


class FollowUpStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    SENT = "sent", "Sent (handed to the outbox)"
    # Its e-mail failed for good (the outbox row is failed); a re-send of that row makes it sent again.
    FAILED = "failed", "Not delivered: its e-mail failed"
    ANSWERED = "answered", "Answered"
    STOPPED = "stopped", "Stopped by the patient"
    SKIPPED = "skipped", "Not sent (no e-mail address)"


# A follow-up in one of these states will never be sent again and never be answered.
# (A failed one is not among them: staff can re-send its e-mail.)
FOLLOW_UP_FINAL_STATUSES = (FollowUpStatus.ANSWERED, FollowUpStatus.STOPPED, FollowUpStatus.SKIPPED)

# The states in which a follow-up's link can be answered: its e-mail went out, and a mail server that failed the
# reply may still have taken the message, so a patient holding the link of a "failed" one can use it.
FOLLOW_UP_ANSWERABLE_STATUSES = (FollowUpStatus.SENT, FollowUpStatus.FAILED)


def follow_up_due_at(*, started_at: dt.datetime, weeks: int) -> dt.datetime:
    return started_at + dt.timedelta(weeks=weeks)
