"""Sending one outbox row, at most once: the worker's side of the outbox (`callbacks.notifications.outbox`)."""

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
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
    """
    transient: TransientSendError | None = None
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
            notification.status = Notification.Status.SENT
            notification.sent_at = timezone.now()
        notification.save(update_fields=["status", "attempts", "last_error", "next_attempt_at", "sent_at"])
        follow_up_delivery_follow(notification=notification)
    log = logger.warning if notification.status == Notification.Status.FAILED else logger.info
    log("notification %s: %s after %s attempt(s)", notification.pk, notification.status, notification.attempts)
    if transient is not None:
        raise transient
    return notification.status
