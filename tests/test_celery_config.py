"""Celery reads misspelled settings silently: assert the ones reliability depends on are in effect."""

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
    assert entry["schedule"] <= settings.OUTBOX_STALE_AFTER_SECONDS
