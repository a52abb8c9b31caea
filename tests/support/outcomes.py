"""Building patients with answered outcome follow-ups for the chart and report tests, through the real services
(the answers are validated, triaged and scored by intake exactly as a patient's would be)."""

import datetime as dt
from unittest import mock

from django.utils import timezone

from callbacks.models import Appointment, FollowUp
from callbacks.requests.followups import follow_up_answer_save
from intake.selectors import OUTCOMES, definition_current
from tests.factories import CallbackRequestFactory, FollowUpFactory

SAFETY_QUESTIONS = [
    question.id for step in definition_current(OUTCOMES).steps if step.screening for question in step.questions
]
ACTIVITIES = ("Gardening", "Cycling", "Lifting the shopping")


def follow_up_answer(follow_up: FollowUp, *, pain=None, worst=None, psfs=(), change=None) -> None:
    """Answer a sent follow-up: pain now (and worst, the same unless given), PSFS ratings, a global change."""
    answers = dict.fromkeys(SAFETY_QUESTIONS, False)
    if pain is not None:
        answers |= {"pain_now": pain, "pain_worst_week": pain if worst is None else worst}
    for activity, rating in zip(ACTIVITIES, psfs, strict=False):
        number = ACTIVITIES.index(activity) + 1
        answers |= {f"psfs_activity_{number}": activity, f"psfs_rating_{number}": rating}
    if change is not None:
        answers["global_change"] = change
    with mock.patch("callbacks.tasks.notification_send_task.apply_async"):
        follow_up_answer_save(follow_up_id=follow_up.pk, answers=answers, complete=False)


def patient_with_follow_ups(*, answers: dict[int, dict | None], sent_days_ago: int = 10, appointment=None, **request):
    """A request with one sent follow-up per week in ``answers`` (sent ``sent_days_ago`` days ago, a week apart
    after the first), each answered with its dict (None: sent, not answered). ``appointment``: (practitioner,
    service, starts_at) to book it with."""
    patient = CallbackRequestFactory(email="patient@example.test", **request)
    if appointment is not None:
        practitioner, service, starts_at = appointment
        Appointment.objects.create(
            request=patient,
            practitioner=practitioner,
            service=service,
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(minutes=30),
            status=Appointment.Status.CONFIRMED,
        )
    for index, (weeks, given) in enumerate(sorted(answers.items())):
        sent_at = timezone.now() - dt.timedelta(days=sent_days_ago - index)
        follow_up = FollowUpFactory(request=patient, weeks=weeks, sent_at=sent_at, due_at=sent_at)
        if given is not None:
            follow_up_answer(follow_up, **given)
    return patient
