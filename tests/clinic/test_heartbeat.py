"""The heartbeat: beat sends it into each queue, a worker stamps the time, /healthz tells ok, stale or never."""

import datetime as dt

import pytest
from celery.signals import before_task_publish
from django.conf import settings as django_settings
from django.db import DatabaseError

from clinic import tasks
from clinic.celery import app
from clinic.heartbeat import HEARTBEAT_TASK
from clinic.models import Heartbeat

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    return NOW


def stamps():
    return dict(Heartbeat.objects.values_list("source", "at"))


def test_beat_sends_a_heartbeat_into_each_queue_every_interval():
    entries = {
        name: entry for name, entry in django_settings.CELERY_BEAT_SCHEDULE.items() if entry["task"] == HEARTBEAT_TASK
    }
    assert {(e["kwargs"]["queue"], e["options"]["queue"]) for e in entries.values()} == {
        ("urgent", "urgent"),
        ("routine", "routine"),
    }
    assert {e["schedule"] for e in entries.values()} == {django_settings.HEARTBEAT_EVERY_SECONDS}
    assert HEARTBEAT_TASK in app.tasks


def test_the_message_carries_the_time_beat_sent_it():
    body = ((), {"queue": "urgent"}, {})
    before_task_publish.send(sender=HEARTBEAT_TASK, body=body, headers={}, exchange="", routing_key="urgent")
    sent_at = dt.datetime.fromisoformat(body[1]["sent_at"])
    assert abs((dt.datetime.now(dt.UTC) - sent_at).total_seconds()) < 5

    other = ((1,), {}, {})
    before_task_publish.send(sender="callbacks.tasks.notification_send", body=other, headers={})
    assert other[1] == {}


def test_the_task_stamps_the_worker_and_beat(frozen):
    tasks.heartbeat.apply(kwargs={"queue": "urgent", "sent_at": (NOW - dt.timedelta(seconds=3)).isoformat()})
    assert stamps() == {"worker:urgent": NOW, "beat": NOW - dt.timedelta(seconds=3)}

    tasks.heartbeat.apply(kwargs={"queue": "routine", "sent_at": NOW.isoformat()})
    assert stamps() == {"worker:urgent": NOW, "worker:routine": NOW, "beat": NOW}


def test_a_late_heartbeat_never_moves_beat_back(frozen):
    Heartbeat.objects.create(source="beat", at=NOW)
    # A heartbeat that waited behind a routine backlog, sent by beat five minutes ago.
    tasks.heartbeat.apply(kwargs={"queue": "routine", "sent_at": (NOW - dt.timedelta(minutes=5)).isoformat()})
    assert stamps() == {"beat": NOW, "worker:routine": NOW}


def test_healthz_with_everything_running(client, frozen):
    Heartbeat.objects.create(source="beat", at=NOW - dt.timedelta(seconds=12))
    Heartbeat.objects.create(source="worker:urgent", at=NOW - dt.timedelta(seconds=12))
    Heartbeat.objects.create(source="worker:routine", at=NOW - dt.timedelta(seconds=40))

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "beat": {"state": "ok", "age_seconds": 12},
        "workers": {"urgent": {"state": "ok", "age_seconds": 12}, "routine": {"state": "ok", "age_seconds": 40}},
    }


def test_healthz_stays_200_and_says_stale_when_beat_and_a_worker_stop(client, frozen, settings):
    settings.HEARTBEAT_STALE_AFTER_SECONDS = 120
    Heartbeat.objects.create(source="beat", at=NOW - dt.timedelta(seconds=121))
    Heartbeat.objects.create(source="worker:urgent", at=NOW - dt.timedelta(seconds=120))

    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["beat"] == {"state": "stale", "age_seconds": 121}
    assert body["workers"] == {
        "urgent": {"state": "ok", "age_seconds": 120},
        "routine": {"state": "never", "age_seconds": None},
    }


def test_healthz_before_any_heartbeat(client):
    body = client.get("/healthz").json()
    assert body["beat"] == {"state": "never", "age_seconds": None}
    assert set(body["workers"]) == {"urgent", "routine"}


def test_healthz_without_the_heartbeat_table_still_reports_the_database(client, monkeypatch):
    def missing_table(**kwargs):
        raise DatabaseError("no such table: clinic_heartbeat")

    monkeypatch.setattr("clinic.health.liveness", missing_table)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_without_the_database_is_503(client, monkeypatch):
    def unreachable(**kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr("clinic.health.liveness", unreachable)
    monkeypatch.setattr("clinic.health.database_answers", lambda: False)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unavailable"}


def test_healthz_costs_one_query(client, django_assert_num_queries):
    Heartbeat.objects.create(source="beat", at=NOW)
    with django_assert_num_queries(1):
        assert client.get("/healthz").json()["status"] == "ok"
