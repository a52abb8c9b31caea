"""Sending one outbox row, at most once: the worker's side of the outbox (`callbacks.notifications.outbox`)."""

import datetime as dt
import logging
import time

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from callbacks.models import Notification
from callbacks.notifications.outbox import follow_up_delivery_follow
from callbacks.notifications.transports import (
    PermanentSendError,
    TransientSendError,
    error_describe,
    notification_deliver,
)

logger = logging.getLogger(__name__)

# Retry schedule of a transient failure: exponential backoff with full jitter, capped. The beat job leaves a
# row alone until RETRY_BACKOFF_MAX has passed, so it never races a retry that is still on its way.
RETRY_BACKOFF = 5
RETRY_BACKOFF_MAX = 300


def notification_send(*, notification_id: int) -> str:
    """Send one pending notification, at most once. Returns the row's status afterwards.

    The row is locked while sending, so a duplicate message waits and then finds it sent. A row that is
    not pending (sent, failed, deleted) is left alone. Raises TransientSendError, after recording the
    attempt, when a later try may succeed; the caller schedules that try.

    Should the database go away after the message was handed over (a restart, a failover) the transaction that
    would mark it sent is lost: the row is then marked sent as soon as the database answers again
    (`_sent_record_after_outage`), well before the beat job would find it overdue and send it again.
    """
    transient: TransientSendError | None = None
    delivered = False
    try:
        with transaction.atomic():
            notification = (
                Notification.objects.select_for_update(of=("self",))
                .select_related("request")
                .filter(pk=notification_id)
                .first()
            )
            if notification is None or notification.status != Notification.Status.PENDING:
                return notification.status if notification else "missing"
            notification.attempts += 1
            try:
                notification_deliver(notification)
            except PermanentSendError as exc:
                notification.status = Notification.Status.FAILED
                notification.last_error = error_describe(exc)
            except TransientSendError as exc:
                notification.last_error = error_describe(exc)
                if notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
                    notification.status = Notification.Status.FAILED
                else:
                    notification.next_attempt_at = timezone.now() + dt.timedelta(seconds=RETRY_BACKOFF_MAX)
                    transient = exc
            else:
                delivered = True
                notification.status = Notification.Status.SENT
                notification.sent_at = timezone.now()
            notification.save(update_fields=["status", "attempts", "last_error", "next_attempt_at", "sent_at"])
            follow_up_delivery_follow(notification=notification)
    except DatabaseError:
        if not delivered:
            raise  # nothing went out: the row is still pending, and a retry or the beat job sends it
        _sent_record_after_outage(notification)
    log = logger.warning if notification.status == Notification.Status.FAILED else logger.info
    log("notification %s: %s after %s attempt(s)", notification.pk, notification.status, notification.attempts)
    if transient is not None:
        raise transient
    return notification.status


# How long a worker keeps trying to record a message it has sent while the database is away: inside the send
# task's soft time limit (60 s) even after a send that took the whole EMAIL_TIMEOUT (20 s), and longer than a
# PostgreSQL restart takes.
SENT_RECORD_TRY_SECONDS = 30


def _sent_record_after_outage(notification: Notification) -> None:
    """Mark a notification that went out as sent, once the database answers again. Raises the last database
    error if it does not answer within SENT_RECORD_TRY_SECONDS (the row then stays pending, and the beat job
    may send it a second time: docs/RELIABILITY.md, where the guarantee ends)."""
    deadline = time.monotonic() + SENT_RECORD_TRY_SECONDS
    logger.warning("notification %s: sent, but the database went away; recording it when it is back", notification.pk)
    while True:
        try:
            connection.close()  # the broken connection: the next query opens a new one
            with transaction.atomic():
                Notification.objects.filter(pk=notification.pk, status=Notification.Status.PENDING).update(
                    status=Notification.Status.SENT, sent_at=notification.sent_at, attempts=notification.attempts
                )
                follow_up_delivery_follow(notification=notification)
            return
        except DatabaseError:
            if time.monotonic() > deadline:
                logger.error("notification %s: sent, but not recorded; it may be sent again", notification.pk)
                raise
            time.sleep(0.5)
