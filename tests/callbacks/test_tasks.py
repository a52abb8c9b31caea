"""The Celery tasks: registered under their historical names (beat and messages in flight use them), each a thin
call of its service, and the outbox queues the send task through Celery's registry without importing it."""

import datetime as dt
from unittest import mock

import pytest
from django.conf import settings
from django.utils import timezone

from callbacks import tasks
from callbacks.models import Notification
from callbacks.notifications import outbox
from clinic.celery import app
from tests.factories import CallbackRequestFactory, NotificationFactory

TASK_NAMES = {
    "callbacks.tasks.notification_send": tasks.notification_send_task,
    "callbacks.tasks.outbox_requeue_stale": tasks.outbox_requeue_stale,
    "callbacks.tasks.callback_requests_escalate_overdue": tasks.callback_requests_escalate_overdue,
    "callbacks.tasks.callback_requests_purge_expired": tasks.callback_requests_purge_expired,
    "callbacks.tasks.sessions_clear_expired": tasks.sessions_clear_expired,
    "callbacks.tasks.appointments_remind": tasks.appointments_remind,
    "callbacks.tasks.attendance_days_count": tasks.attendance_days_count,
    "callbacks.tasks.attendance_days_recount": tasks.attendance_days_recount,
}


@pytest.mark.parametrize(("name", "task"), TASK_NAMES.items())
def test_tasks_keep_their_names(name, task):
    assert task.name == name
    assert app.tasks[name] == task  # shared_task hands out a proxy of the registered task


def test_every_beat_entry_names_a_registered_task():
    # What a worker does as it starts: import every app's tasks module (run alone, nothing else has yet).
    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks, entry["task"]


def test_the_outbox_queues_the_registered_send_task_with_the_id_only():
    assert tasks.notification_send_task.name == outbox.NOTIFICATION_SEND_TASK
    with mock.patch.object(tasks.notification_send_task, "apply_async") as apply_async:
        assert outbox.notifications_enqueue([41, 42]) == 2
    assert [call.kwargs for call in apply_async.call_args_list] == [
        {"args": [41], "queue": "routine"},
        {"args": [42], "queue": "routine"},
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("task", "service", "arguments"),
    [
        (tasks.outbox_requeue_stale, "callbacks.notifications.outbox.outbox_requeue_stale", {"lane": None}),
        (
            tasks.callback_requests_escalate_overdue,
            "callbacks.notifications.outbox.callback_requests_escalate_overdue",
            {},
        ),
        (tasks.callback_requests_purge_expired, "callbacks.privacy.retention.callback_requests_purge_expired", {}),
        (tasks.appointments_remind, "callbacks.booking.services.appointments_remind", {}),
    ],
)
def test_a_beat_task_returns_what_its_service_did(task, service, arguments):
    with mock.patch(service, return_value=7) as called:
        assert task.apply().get() == 7
    called.assert_called_once_with(**arguments)


@pytest.mark.django_db
def test_the_send_task_sends_one_row_by_id(mailoutbox):
    notification = NotificationFactory(request=CallbackRequestFactory())
    assert tasks.notification_send_task.apply(args=[notification.pk]).get() == Notification.Status.SENT
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT and len(mailoutbox) == 1
    # A repeated message finds the row sent and sends nothing.
    assert tasks.notification_send_task.apply(args=[notification.pk]).get() == Notification.Status.SENT
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_the_requeue_task_publishes_stale_rows_again():
    stale = NotificationFactory(request=CallbackRequestFactory())
    Notification.objects.filter(pk=stale.pk).update(next_attempt_at=timezone.now() - dt.timedelta(hours=1))
    with mock.patch.object(tasks.notification_send_task, "apply_async") as apply_async:
        assert tasks.outbox_requeue_stale.apply().get() == 1
    assert apply_async.call_args.kwargs == {"args": [stale.pk], "queue": "routine"}
