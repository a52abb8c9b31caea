"""Celery reads misspelled settings silently: assert the ones reliability depends on are in effect."""

import logging
import os
from importlib import reload
from unittest import mock

from django.conf import settings

import clinic.settings as clinic_settings
from callbacks.notifications import delivery, transports
from callbacks.tasks import notification_send_task
from clinic.celery import app


def test_app_acknowledges_late_and_rejects_on_worker_loss():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_time_limit > app.conf.task_soft_time_limit > 0


def test_send_task_declares_retries_backoff_jitter_and_limits():
    task = app.tasks["callbacks.tasks.notification_send"]
    assert task.name == notification_send_task.name
    assert task.acks_late is True
    assert task.reject_on_worker_lost is True
    assert task.autoretry_for == (transports.TransientSendError,)
    assert task.retry_backoff == delivery.RETRY_BACKOFF
    assert task.retry_backoff_max == delivery.RETRY_BACKOFF_MAX
    assert task.retry_jitter is True
    assert task.max_retries == settings.NOTIFICATION_MAX_ATTEMPTS - 1
    assert task.time_limit > task.soft_time_limit > 0


def test_redis_visibility_timeout_outlasts_the_longest_retry():
    # The test settings use the file broker; read the settings module again as production would.
    with mock.patch.dict(os.environ, {"CELERY_BROKER_URL": "redis://127.0.0.1:6379/0"}):
        production_like = reload(clinic_settings)
        options = production_like.CELERY_BROKER_TRANSPORT_OPTIONS
    reload(clinic_settings)
    assert options["visibility_timeout"] > delivery.RETRY_BACKOFF_MAX * 2
    assert options["visibility_timeout"] > notification_send_task.time_limit


def test_beat_requeues_the_outbox_often():
    entry = app.conf.beat_schedule["outbox-requeue-stale"]
    assert entry["task"] == "callbacks.tasks.outbox_requeue_stale"
    assert entry["kwargs"] == {"lane": "routine"}
    assert entry["schedule"] <= settings.OUTBOX_STALE_AFTER_SECONDS


def test_the_urgent_lane_has_its_queue_and_its_beat_jobs_run_in_it():
    assert app.conf.task_default_queue == "routine"
    assert {queue.name for queue in app.conf.task_queues} == {"routine", "urgent"}
    # Each lane's queue has its own exchange and key (under the default key an AMQP broker would mix the lanes).
    for name in ("routine", "urgent"):
        queue = app.amqp.queues[name]
        assert (queue.exchange.name, queue.routing_key) == (name, name)
    urgent = app.conf.beat_schedule["outbox-requeue-urgent"]
    assert urgent["task"] == "callbacks.tasks.outbox_requeue_stale"
    assert urgent["kwargs"] == {"lane": "urgent"} and urgent["options"] == {"queue": "urgent"}
    assert urgent["schedule"] < app.conf.beat_schedule["outbox-requeue-stale"]["schedule"]
    # The job that writes overdue emergencies' escalations is not queued behind routine mail either.
    assert app.conf.beat_schedule["callbacks-escalate-overdue"]["options"] == {"queue": "urgent"}


def test_broker_connection_handling_is_chosen_explicitly():
    assert app.conf.broker_connection_retry is True
    assert app.conf.broker_connection_retry_on_startup is True
    assert app.conf.broker_connection_max_retries == settings.CELERY_BROKER_CONNECTION_MAX_RETRIES == 100
    # A send running when the connection drops finishes and marks its row sent (docs/RELIABILITY.md).
    assert app.conf.worker_cancel_long_running_tasks_on_connection_loss is False
    assert app.conf.broker_connection_timeout == 2


def test_the_reconnect_limit_is_read_from_the_environment():
    with mock.patch.dict(os.environ, {"CELERY_BROKER_CONNECTION_MAX_RETRIES": "7"}):
        production_like = reload(clinic_settings)
        max_retries = production_like.CELERY_BROKER_CONNECTION_MAX_RETRIES
    reload(clinic_settings)
    assert max_retries == 7


def beat_log_of_a_failed_send(caplog) -> list[str]:
    from celery.beat import ScheduleEntry, Scheduler, SchedulingError

    scheduler = Scheduler(app, lazy=True)
    entry = ScheduleEntry(name="outbox-requeue-stale", task="callbacks.tasks.outbox_requeue_stale", app=app)
    refused = SchedulingError(
        "Couldn't apply scheduled task outbox-requeue-stale: Error 111 connecting to redis:6379. Connection refused."
    )
    with (
        mock.patch.object(Scheduler, "apply_async", side_effect=refused),
        caplog.at_level(logging.INFO, logger="celery.beat"),
    ):
        scheduler.apply_entry(entry)
    return [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_beat_logs_one_line_per_failed_send(caplog):
    (record,) = beat_log_of_a_failed_send(caplog)
    line = logging.Formatter("%(levelname)s %(message)s").format(record)
    assert line == (
        "ERROR beat: a due task was not sent (SchedulingError: Couldn't apply scheduled task outbox-requeue-stale:"
        " Error 111 connecting to redis:6379. Connection refused.); it is sent again at its next run"
    )
    assert "\n" not in line
    assert record.exc_info is None


def test_the_reminder_about_the_explicitly_chosen_cancel_setting_is_dropped():
    from clinic.celery import ChosenSettingReminderDropped

    def warning_record(text: str) -> logging.LogRecord:
        return logging.LogRecord("py.warnings", logging.WARNING, __file__, 1, text, None, None)

    reminder = (
        "consumer.py:427: CPendingDeprecationWarning: \nIn Celery 5.1 we introduced an optional breaking change ..."
        " You can enable this behavior using the worker_cancel_long_running_tasks_on_connection_loss setting."
    )
    assert ChosenSettingReminderDropped().filter(warning_record(reminder)) is False
    assert ChosenSettingReminderDropped().filter(warning_record("some other deprecation")) is True
    assert any(isinstance(f, ChosenSettingReminderDropped) for f in logging.getLogger("py.warnings").filters)
