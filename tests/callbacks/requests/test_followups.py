"""Outcome follow-ups: scheduled when a request becomes a patient, sent once through the outbox when due."""

import datetime as dt
import importlib
import json
from unittest import mock

import pytest
from django.apps import apps as django_apps
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from callbacks.models import CallbackRequest, FollowUp, Notification, RequestEvent
from callbacks.notifications.delivery import notification_send
from callbacks.privacy.services import callback_request_erase, callback_request_export
from callbacks.requests.followup_schedule import follow_up_schedule, follow_ups_send_due
from callbacks.requests.followups import follow_up_answer_save, follow_ups_stop
from callbacks.requests.workflow import callback_request_status_change
from callbacks.tasks import follow_ups_send_due as follow_ups_send_due_task
from clinic.setting_parsers import follow_up_weeks_parse
from intake.models import QuestionnaireResponse
from intake.selectors import OUTCOMES, definition_current
from tests.factories import CallbackRequestFactory, FollowUpFactory, UserFactory

pytestmark = pytest.mark.django_db
Status = CallbackRequest.Status
SAFETY_QUESTIONS = [
    question.id for step in definition_current(OUTCOMES).steps if step.screening for question in step.questions
]


def book(request):
    callback_request_status_change(request=request, status=Status.BOOKED, actor=UserFactory())


def test_the_schedule_is_written_once_per_week_from_its_start(settings):
    settings.CLINIC_FOLLOW_UP_WEEKS = (2, 6, 12)
    request = CallbackRequestFactory(email="patient@example.test")
    seen = timezone.now() - dt.timedelta(days=1)
    assert follow_up_schedule(request=request, started_at=seen) == 3
    rows = list(FollowUp.objects.filter(request=request))
    assert [row.weeks for row in rows] == [2, 6, 12]
    assert all(row.status == FollowUp.Status.SCHEDULED and row.sent_at is None for row in rows)
    assert rows[0].due_at == seen + dt.timedelta(weeks=2)
    # A second call adds nothing and moves nothing.
    assert follow_up_schedule(request=request) == 0
    assert list(FollowUp.objects.filter(request=request).values_list("due_at", flat=True)) == [r.due_at for r in rows]


@pytest.mark.parametrize("outcome", ["appointment", "declined", "referred"])
def test_booking_or_closing_schedules_no_follow_ups_before_the_patient_is_seen(outcome):
    """Issue 26: a patient booked for 2 January is not asked on 21 December how the treatment went. The
    follow-ups wait for the first attended visit (tests/callbacks/booking/test_attendance.py)."""
    request = CallbackRequestFactory()
    book(request)
    assert not FollowUp.objects.filter(request=request).exists()
    callback_request_status_change(request=request, status=Status.CLOSED, outcome=outcome, actor=UserFactory())
    assert not FollowUp.objects.filter(request=request).exists()


def test_other_statuses_schedule_nothing_and_an_empty_setting_sends_none(settings):
    request = CallbackRequestFactory()
    callback_request_status_change(request=request, status=Status.IN_PROGRESS, actor=UserFactory())
    assert not FollowUp.objects.exists()
    settings.CLINIC_FOLLOW_UP_WEEKS = ()
    book(request)
    assert not FollowUp.objects.exists()


def test_send_due_writes_one_outbox_email_per_due_follow_up_once(django_capture_on_commit_callbacks):
    due = FollowUpFactory(status=FollowUp.Status.SCHEDULED, sent_at=None, due_at=timezone.now() - dt.timedelta(hours=1))
    with (
        mock.patch("callbacks.tasks.notification_send_task.apply_async") as queued,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert follow_ups_send_due_task() == 1
        assert follow_ups_send_due() == 0  # a second run finds nothing to send
    [notification] = Notification.objects.filter(kind=Notification.Kind.FOLLOW_UP)
    assert notification.follow_up == due and notification.recipient == "patient@example.test"
    # Only the outbox row's id goes to the broker, after commit.
    assert [call.kwargs["args"] for call in queued.call_args_list] == [[notification.pk]]
    due.refresh_from_db()
    assert due.status == FollowUp.Status.SENT and due.sent_at is not None
    notification_send(notification_id=notification.pk)
    notification_send(notification_id=notification.pk)  # a redelivered message
    assert len(mail.outbox) == 1


def test_send_due_skips_stopped_future_answered_and_addressless():
    past = timezone.now() - dt.timedelta(minutes=5)
    future = FollowUpFactory(
        status=FollowUp.Status.SCHEDULED, sent_at=None, due_at=timezone.now() + dt.timedelta(days=1)
    )
    stopped = FollowUpFactory(status=FollowUp.Status.SCHEDULED, sent_at=None, due_at=past)
    follow_ups_stop(request_id=stopped.request_id)
    already = FollowUpFactory(due_at=past)
    no_address = FollowUpFactory(
        status=FollowUp.Status.SCHEDULED, sent_at=None, due_at=past, request=CallbackRequestFactory(email="")
    )
    with mock.patch("callbacks.tasks.notification_send_task.apply_async"):
        assert follow_ups_send_due() == 0
    assert not Notification.objects.filter(kind=Notification.Kind.FOLLOW_UP).exists()
    for row, status in ((future, "scheduled"), (stopped, "stopped"), (already, "sent"), (no_address, "skipped")):
        row.refresh_from_db()
        assert row.status == status


def test_the_database_refuses_a_second_email_for_one_follow_up():
    follow_up = FollowUpFactory()
    Notification.objects.create(
        request=follow_up.request, follow_up=follow_up, kind=Notification.Kind.FOLLOW_UP, recipient="a@example.test"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            request=follow_up.request, follow_up=follow_up, kind=Notification.Kind.FOLLOW_UP, recipient="a@example.test"
        )


def test_follow_up_email_carries_the_reference_and_links_but_no_health_details(django_capture_on_commit_callbacks):
    request = CallbackRequestFactory(email="patient@example.test", reason="Sciatica down my left leg")
    FollowUpFactory(request=request, status=FollowUp.Status.SCHEDULED, sent_at=None, due_at=timezone.now(), weeks=6)
    with mock.patch("callbacks.tasks.notification_send_task.apply_async"):
        follow_ups_send_due()
    notification_send(notification_id=Notification.objects.get(kind=Notification.Kind.FOLLOW_UP).pk)
    [message] = mail.outbox
    assert message.to == ["patient@example.test"]
    assert request.reference in message.subject and request.reference in message.body
    assert "/how-is-your-back/" in message.body and "/how-is-your-back/stop/" in message.body
    assert "6 weeks" in message.body
    # Nothing of what the patient told us, nor their name; the advice not to wait for the e-mail is there.
    assert "sciatica" not in message.body.lower() and request.name not in message.body
    assert "do not wait" in message.body and "999" in message.body


@pytest.mark.parametrize(("weeks", "said"), [(1, "about 1 week since"), (2, "about 2 weeks since")])
def test_follow_up_email_counts_its_weeks_in_good_english(weeks, said):
    follow_up = FollowUpFactory(status=FollowUp.Status.SCHEDULED, sent_at=None, due_at=timezone.now(), weeks=weeks)
    with mock.patch("callbacks.tasks.notification_send_task.apply_async"):
        follow_ups_send_due()
    notification_send(notification_id=Notification.objects.get(follow_up=follow_up).pk)
    [message] = mail.outbox
    assert said in " ".join(message.body.split())
    assert "1 weeks" not in message.body


def test_stop_marks_the_request_and_unsent_follow_ups_and_records_it():
    request = CallbackRequestFactory()
    scheduled = FollowUpFactory(request=request, weeks=6, status=FollowUp.Status.SCHEDULED, sent_at=None)
    sent = FollowUpFactory(request=request, weeks=2)
    assert follow_ups_stop(request_id=request.pk) is True
    assert follow_ups_stop(request_id=request.pk) is False
    request.refresh_from_db()
    assert request.follow_ups_stopped_at is not None
    for row in (scheduled, sent):
        row.refresh_from_db()
        assert row.status == FollowUp.Status.STOPPED
    event = RequestEvent.objects.get(request=request, action=RequestEvent.Action.FOLLOW_UP)
    assert event.field == "follow_ups_stopped_at"
    # A patient who stopped is never scheduled again.
    assert follow_up_schedule(request=request) == 0


def test_the_weeks_setting_is_read_strictly():
    assert follow_up_weeks_parse("12, 2,6,6") == (2, 6, 12)
    assert follow_up_weeks_parse("") == ()
    assert follow_up_weeks_parse(["1", 4]) == (1, 4)
    # Whole weeks of 1 or more, in ASCII digits: a superscript or another script's digit is refused too.
    for bad in ("2,x", "0", "-1", "1.5", "2 weeks", "²", "٣", "00"):
        with pytest.raises(ValueError, match="whole number of weeks"):
            follow_up_weeks_parse(bad)


def test_erasing_a_patient_deletes_their_follow_up_answers_too():
    follow_up = FollowUpFactory()
    with mock.patch("callbacks.tasks.notification_send_task.apply_async"):
        follow_up_answer_save(
            follow_up_id=follow_up.pk,
            answers={
                **dict.fromkeys(SAFETY_QUESTIONS, False),
                "pain_now": 2,
                "pain_worst_week": 5,
                "psfs_activity_1": "Cycling",
                "psfs_rating_1": 6,
            },
        )
    response_id = FollowUp.objects.get(pk=follow_up.pk).questionnaire_response_id
    callback_request_erase(request=follow_up.request, actor=UserFactory())
    assert not FollowUp.objects.exists()
    assert not QuestionnaireResponse.objects.filter(pk=response_id).exists()


def test_beat_runs_the_send_task_by_its_registered_name(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["follow-ups-send-due"]
    assert entry["task"] == follow_ups_send_due_task.name
    assert settings.CLINIC_FOLLOW_UP_WEEKS == (2, 6, 12)


def test_a_patients_data_download_holds_their_follow_ups_and_answers():
    follow_up = FollowUpFactory()
    with mock.patch("callbacks.tasks.notification_send_task.apply_async"):
        follow_up_answer_save(
            follow_up_id=follow_up.pk,
            answers={**dict.fromkeys(SAFETY_QUESTIONS, False), "psfs_activity_1": "Cycling", "psfs_rating_1": 6},
            complete=False,
        )
    document = json.loads(callback_request_export(request=follow_up.request, actor=UserFactory()))
    [exported] = document["follow_ups"]
    assert exported["weeks"] == 2 and exported["status"] == "Answered"
    assert exported["questionnaire"]["definition"] == "outcomes/v1"
    answers = {answer["question_id"]: answer["value"] for answer in exported["questionnaire"]["answers"]}
    assert answers["psfs_activity_1"] == "Cycling" and answers["psfs_rating_1"] == 6


def test_migration_0022_marks_follow_ups_whose_email_had_already_failed():
    migration = importlib.import_module("callbacks.migrations.0022_follow_up_failed")
    failed_email, delivered, no_email = FollowUpFactory(weeks=2), FollowUpFactory(weeks=6), FollowUpFactory(weeks=12)
    for follow_up, status in ((failed_email, "failed"), (delivered, "sent")):
        Notification.objects.create(
            request=follow_up.request,
            follow_up=follow_up,
            kind=Notification.Kind.FOLLOW_UP,
            recipient="patient@example.test",
            status=status,
            sent_at=timezone.now() if status == "sent" else None,
        )
    migration.follow_ups_of_failed_emails_failed(django_apps, None)
    statuses = {row.pk: row.status for row in FollowUp.objects.all()}
    assert statuses == {failed_email.pk: "failed", delivered.pk: "sent", no_email.pk: "sent"}
    migration.failed_follow_ups_sent(django_apps, None)
    assert set(FollowUp.objects.values_list("status", flat=True)) == {"sent"}
