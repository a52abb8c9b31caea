"""The notification outbox: rows written with the request, sent by a Celery worker, never lost, never sent twice.

Guarantees (docs/RELIABILITY.md shows how the tests prove them):
- a notification row is committed in the same transaction as the request it announces;
- only its id travels through the broker; a failed publish leaves the row pending for the beat job;
- sending happens while the row is locked, and a row that is no longer pending is never sent again.
"""

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from callbacks.models import CallbackRequest, Notification
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


def notifications_enqueue_on_commit(notifications: Iterable[Notification]) -> None:
    ids = [notification.pk for notification in notifications]
    transaction.on_commit(lambda: notifications_enqueue(ids))


def notifications_enqueue(ids: Iterable[int]) -> int:
    """Publish one task message per id. Never raises: what cannot be queued now, the beat job queues later."""
    from callbacks.tasks import notification_send_task

    queued = 0
    for notification_id in ids:
        try:
            notification_send_task.apply_async(args=[notification_id])
        except Exception as exc:  # noqa: BLE001 - whatever the broker's failure, the patient's form must succeed
            logger.warning(
                "notification %s not queued (%s); it stays pending for the re-queue job",
                notification_id,
                type(exc).__name__,
            )
        else:
            queued += 1
    return queued


def notification_send(*, notification_id: int) -> str:
    """Send one pending notification, at most once. Returns the row's status afterwards.

    The row is locked while sending, so a duplicate message waits and then finds it sent. A row that is
    not pending (sent, failed, deleted) is left alone. Raises TransientSendError, after recording the
    attempt, when a later try may succeed; the caller schedules that try.
    """
    transient: TransientSendError | None = None
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update().select_related("request").filter(pk=notification_id).first()
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
    log = logger.warning if notification.status == Notification.Status.FAILED else logger.info
    log("notification %s: %s after %s attempt(s)", notification.pk, notification.status, notification.attempts)
    if transient is not None:
        raise transient
    return notification.status


def notification_resend(*, notification: Notification) -> bool:
    """Put a failed notification back in the queue. Returns False if it was not failed."""
    updated = Notification.objects.filter(pk=notification.pk, status=Notification.Status.FAILED).update(
        status=Notification.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
    )
    if updated:
        notifications_enqueue_on_commit([notification])
    return bool(updated)


def outbox_requeue_stale(*, limit: int = 500) -> int:
    """Queue again the pending rows whose message is overdue (lost, or never published). Returns how many."""
    now = timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.OUTBOX_STALE_AFTER_SECONDS)
    ids = list(
        Notification.objects.pending()
        .filter(next_attempt_at__lt=cutoff)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    if ids:
        Notification.objects.filter(pk__in=ids).update(next_attempt_at=now)
        notifications_enqueue(ids)
        logger.info("re-queued %s stale notification(s)", len(ids))
    return len(ids)


def callback_requests_escalate_overdue(*, now: dt.datetime | None = None) -> int:
    """Queue one escalation e-mail per overdue request; a request is never escalated twice. Returns how many."""
    overdue = (
        CallbackRequest.objects.overdue(now)
        .exclude(notifications__kind=Notification.Kind.ESCALATION)
        .order_by("priority", "deadline")
    )
    escalated = 0
    for request in overdue.iterator():
        try:
            with transaction.atomic():
                notification = Notification.objects.create(
                    request=request,
                    kind=Notification.Kind.ESCALATION,
                    recipient=settings.CLINIC_ESCALATION_EMAIL,
                )
                notifications_enqueue_on_commit([notification])
        except IntegrityError:
            continue  # escalated meanwhile by another run: the unique constraint keeps it to one
        escalated += 1
    if escalated:
        logger.info("escalated %s overdue request(s)", escalated)
    return escalated
