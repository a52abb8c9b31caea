"""The outbox re-queue claims the rows it publishes: two re-queues at once, or a re-queue during a slow send,
never publish the same row twice (PostgreSQL row locks, SELECT ... FOR UPDATE SKIP LOCKED)."""

import datetime as dt
import threading
from collections import Counter
from unittest import mock

import pytest
from django.db import connection, transaction
from django.utils import timezone

from callbacks.models import Notification
from callbacks.notifications.outbox import outbox_requeue_stale
from tests.factories import NotificationFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROWS = 30


@pytest.fixture
def stale_rows(settings):
    old = timezone.now() - dt.timedelta(seconds=settings.OUTBOX_STALE_AFTER_SECONDS + 10)
    return [NotificationFactory(next_attempt_at=old).pk for _ in range(ROWS)]


@pytest.fixture
def published():
    """Every id the re-queues publish, whichever thread publishes it."""
    ids: Counter = Counter()
    lock = threading.Lock()

    def publish(*, args, queue):
        with lock:
            ids[args[0]] += 1

    with mock.patch("callbacks.tasks.notification_send_task.apply_async", side_effect=publish):
        yield ids


def in_thread(function, *args):
    """Run `function` on a connection of its own; returns (thread, result holder)."""
    result: dict = {}

    def run():
        try:
            result["value"] = function(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread, which asserts on it
            result["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


def test_two_requeues_at_once_publish_every_row_exactly_once(stale_rows, published):
    first_claimed = threading.Event()
    release_first = threading.Event()

    def first_requeue():
        # The first beat's transaction stays open after its claim, as a slow commit or a paused process would.
        with transaction.atomic():
            count = outbox_requeue_stale(limit=ROWS // 2)
            first_claimed.set()
            assert release_first.wait(timeout=30)
        return count

    thread, first = in_thread(first_requeue)
    assert first_claimed.wait(timeout=30)
    # The second beat runs while the first still holds its rows: it must neither wait for them nor take them.
    second, second_result = in_thread(outbox_requeue_stale)
    second.join(timeout=30)
    assert not second.is_alive(), "the second re-queue waited for the first one's locks"
    release_first.set()
    thread.join(timeout=30)
    assert "error" not in first and "error" not in second_result, (first, second_result)
    assert first["value"] == ROWS // 2
    assert second_result["value"] == ROWS - ROWS // 2
    assert sorted(published) == sorted(stale_rows), "every stale row is published"
    assert set(published.values()) == {1}, "no row is published twice"
    # Claimed: nothing is overdue any more, so a third beat publishes nothing.
    assert outbox_requeue_stale() == 0
    assert sum(published.values()) == ROWS


def test_a_row_being_sent_is_not_published_again(stale_rows, published):
    """A worker sending a row holds its lock (notification_send); a re-queue meanwhile leaves that row alone."""
    sending = stale_rows[0]
    locked = threading.Event()
    release = threading.Event()

    def slow_send():
        with transaction.atomic():
            Notification.objects.select_for_update().get(pk=sending)
            locked.set()
            assert release.wait(timeout=30)

    thread, result = in_thread(slow_send)
    assert locked.wait(timeout=30)
    try:
        assert outbox_requeue_stale() == ROWS - 1
    finally:
        release.set()
        thread.join(timeout=30)
    assert "error" not in result, result
    assert sending not in published
    assert set(published.values()) == {1}
