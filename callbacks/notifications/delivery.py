"""Sending one outbox row, at most once: the worker's side of the outbox (`callbacks.notifications.outbox`)."""

import datetime as dt
import logging
import time

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from callbacks.models import Notification
from callbacks.notifications.outbox import follow_up_delivery_follow
from callbacks.notifications.quiet_hours import text_held_until
from callbacks.notifications.receipts import text_refused_alert
from callbacks.notifications.routing import text_may_go_now
from callbacks.notifications.texts import notification_text
from callbacks.notifications.transports import (
    PermanentSendError,
    TransientSendError,
    error_describe,
    notification_deliver,
)
from callbacks.notifications.transports.sms import our_message_id, sms_provider

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
    channel = Notification.objects.filter(pk=notification_id).values_list("channel", flat=True).first()
    if channel == Notification.Channel.SMS:
        return text_send(notification_id=notification_id)
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
                    status=Notification.Status.SENT,
                    sent_at=notification.sent_at or timezone.now(),
                    attempts=notification.attempts,
                    provider_message_id=notification.provider_message_id,
                    send_started_at=None,
                )
                follow_up_delivery_follow(notification=notification)
            return
        except DatabaseError:
            if time.monotonic() > deadline:
                logger.error("notification %s: sent, but not recorded; it may be sent again", notification.pk)
                raise
            time.sleep(0.5)


# How far back (before the earlier attempt began) a text found at the provider may have been created: clocks differ.
FIND_SENT_CLOCK_SKEW = dt.timedelta(minutes=2)
HELD = "held"


def text_send(*, notification_id: int) -> str:
    """Send one pending text message, at most once as far as the provider lets us tell. Returns the row's status
    afterwards ("held" for a text waiting for the end of quiet hours).

    Twilio takes no idempotency key, so the attempt is put on record before the provider is called: the first
    transaction stamps ``send_started_at`` and commits. The second locks the row again, checks the stamp is still
    its own (another worker that stamped it since will send it instead), hands the text over while holding the lock,
    and records the outcome with the provider's id, clearing the stamp. A row that still carries a stamp when a
    worker takes it had an attempt whose outcome was never recorded (the worker died, the provider timed out after
    taking the text, the database went away): the provider is asked whether it took that text before it is sent
    again, and its id is recorded instead of a second send. docs/RELIABILITY.md says where this guarantee ends.

    A text to a number that has opted out since it was written (STOP) fails unless it is essential; a non-urgent
    text taken during quiet hours waits for the morning: `next_attempt_at` moves there, and the beat job queues it
    again then (`callbacks.notifications.quiet_hours`). The text's words are rendered once, with the first stamp, and
    stored on the row (``text_body``): a retry sends, and looks for, exactly what the first attempt sent.
    """
    now = timezone.now()
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("request", "waitlist_offer__entry")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None or notification.status != Notification.Status.PENDING:
            return notification.status if notification else "missing"
        refusal = text_may_go_now(notification)
        if refusal:
            notification.status = Notification.Status.FAILED
            notification.last_error = refusal
            notification.send_started_at = None
            notification.save(update_fields=["status", "last_error", "send_started_at"])
            follow_up_delivery_follow(notification=notification)
            logger.info("notification %s: not sent (%s)", notification.pk, refusal)
            return notification.status
        morning = text_held_until(notification, now=now)
        if morning is not None:
            notification.next_attempt_at = morning
            notification.save(update_fields=["next_attempt_at"])
            logger.info("notification %s: held until quiet hours end", notification.pk)
            return HELD
        unknown_since = notification.send_started_at
        stamp = now
        # The words are fixed with the stamp: every attempt sends, and asks the provider about, the same body (its
        # signed links would differ if rendered again).
        body = notification.text_body or notification_text(notification)
        Notification.objects.filter(pk=notification.pk).update(send_started_at=stamp, text_body=body)
    return _text_hand_over(notification_id=notification_id, stamp=stamp, unknown_since=unknown_since)


def _text_hand_over(*, notification_id: int, stamp: dt.datetime, unknown_since: dt.datetime | None) -> str:
    transient: TransientSendError | None = None
    provider_id = ""
    try:
        with transaction.atomic():
            notification = (
                Notification.objects.select_for_update(of=("self",))
                .select_related("request", "waitlist_offer__entry")
                .filter(pk=notification_id)
                .first()
            )
            if notification is None or notification.status != Notification.Status.PENDING:
                return notification.status if notification else "missing"
            if notification.send_started_at != stamp:
                # Another worker stamped it after us: it asks the provider about our attempt and sends it.
                return notification.status
            notification.attempts += 1
            provider = sms_provider()
            message_id = our_message_id(notification.pk)
            body = notification.text_body or notification_text(notification)
            try:
                if unknown_since is not None:
                    provider_id = (
                        provider.find_sent(
                            to=notification.recipient,
                            body=body,
                            our_message_id=message_id,
                            since=unknown_since - FIND_SENT_CLOCK_SKEW,
                        )
                        or ""
                    )
                    if provider_id:
                        logger.info(
                            "notification %s: an earlier attempt's text had gone; not sent again", notification.pk
                        )
                if not provider_id:
                    provider_id = provider.send(to=notification.recipient, body=body, our_message_id=message_id)
            except PermanentSendError as exc:
                notification.status = Notification.Status.FAILED
                notification.last_error = error_describe(exc)
                notification.send_started_at = None
            except TransientSendError as exc:
                # The stamp stays: whether the provider took the text is unknown, so the next attempt asks it first.
                notification.last_error = error_describe(exc)
                if notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
                    notification.status = Notification.Status.FAILED
                else:
                    notification.next_attempt_at = timezone.now() + dt.timedelta(seconds=RETRY_BACKOFF_MAX)
                    transient = exc
            else:
                notification.status = Notification.Status.SENT
                notification.sent_at = timezone.now()
                notification.provider_message_id = provider_id
                notification.send_started_at = None
            notification.save(
                update_fields=[
                    "status",
                    "attempts",
                    "last_error",
                    "next_attempt_at",
                    "sent_at",
                    "provider_message_id",
                    "send_started_at",
                ]
            )
            follow_up_delivery_follow(notification=notification)
            if notification.status == Notification.Status.FAILED:
                text_refused_alert(notification)
    except DatabaseError:
        if not provider_id:
            raise  # nothing went out: the row is still pending (and stamped), a retry or the beat job sends it
        # The provider took it; should this fail too, the stamp makes the next attempt find it rather than resend.
        _sent_record_after_outage(notification)
    log = logger.warning if notification.status == Notification.Status.FAILED else logger.info
    log("notification %s: %s after %s attempt(s)", notification.pk, notification.status, notification.attempts)
    if transient is not None:
        raise transient
    return notification.status
