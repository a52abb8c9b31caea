"""The notification outbox: rows written with the request, sent by a Celery worker, never lost, never sent twice.

Guarantees (docs/RELIABILITY.md shows how the tests prove them):
- a notification row is committed in the same transaction as the request it announces;
- only its id travels through the broker, in its lane's queue (`callbacks.notifications.lanes`); a failed
  publish leaves the row pending for the beat job;
- sending happens while the row is locked, and a row that is no longer pending is never sent again
  (`callbacks.notifications.delivery`).

This module writes rows and queues them; every writer of the app (a new request, a booking decision, the
escalation job) comes through here, and `callbacks.notifications.routing` decides the recipients.
"""

import datetime as dt
import logging
from collections.abc import Iterable

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from callbacks.models import CallbackRequest, FollowUp, Notification, WaitlistOffer
from callbacks.notifications.lanes import ROUTINE, lane_filter, lane_queue, notification_lane
from callbacks.notifications.routing import (
    appointment_moved_routes,
    booking_routes,
    call_today_routes,
    escalation_recipient,
    new_request_routes,
    priority_raised_routes,
    staff_sign_in_alert_recipients,
    waitlist_offer_routes,
)
from callbacks.rules.followups import FOLLOW_UP_FINAL_STATUSES

logger = logging.getLogger(__name__)

# The task that sends one row (callbacks.tasks.notification_send_task). Queued by name, from Celery's registry of
# tasks: the outbox sits below the tasks, which call it, so it does not import them.
NOTIFICATION_SEND_TASK = "callbacks.tasks.notification_send"

# The receipts of a text the provider could not deliver (`callbacks.notifications.receipts`).
TEXT_DELIVERY_FAILED = ("failed", "undelivered")


def notifications_for_new_request(
    request: CallbackRequest, *, staff: bool = True, patient: bool = True
) -> list[Notification]:
    """The outbox rows a new request needs (without the staff's or the patient's when told so); call inside the
    transaction that saves the request."""
    rows = [
        Notification(request=request, kind=route.kind, channel=route.channel, recipient=route.recipient)
        for route in new_request_routes(request)
        if (staff if route.kind == Notification.Kind.STAFF_NEW_REQUEST else patient)
    ]
    return Notification.objects.bulk_create(rows)


def notifications_for_appointment_moved(
    request: CallbackRequest, *, by_patient: bool, calendar_sequence: int
) -> list[Notification]:
    """Write and queue (after commit) the e-mails of a move (by the patient's link, or by the front desk); one
    set per move. The patient's e-mail carries the calendar file numbered ``calendar_sequence``."""
    rows = Notification.objects.bulk_create(
        Notification(
            request=request,
            kind=route.kind,
            channel=route.channel,
            recipient=route.recipient,
            calendar_sequence=calendar_sequence if route.kind == Notification.Kind.BOOKING_MOVED else None,
        )
        for route in appointment_moved_routes(request, by_patient=by_patient)
    )
    notifications_enqueue_on_commit(rows)
    return rows


def notification_for_waitlist_offer(offer: WaitlistOffer) -> Notification:
    """Write and queue (after commit) the e-mail offering a freed slot to a waitlisted patient, and its text when
    they chose texts. Returns the e-mail's row."""
    rows = Notification.objects.bulk_create(
        Notification(waitlist_offer=offer, kind=route.kind, channel=route.channel, recipient=route.recipient)
        for route in waitlist_offer_routes(offer.entry)
    )
    notifications_enqueue_on_commit(rows)
    return rows[0]


def notifications_for_priority_raised(request: CallbackRequest) -> list[Notification]:
    """The outbox rows when later answers raise a stored request's priority; call inside that transaction."""
    rows = [
        Notification(request=request, kind=route.kind, channel=route.channel, recipient=route.recipient)
        for route in priority_raised_routes(request)
    ]
    return Notification.objects.bulk_create(rows)


def notifications_for_staff_wrong_codes(*, user, wrong_codes: int) -> list[Notification]:
    """Write and queue (after commit) the e-mails telling ``user`` and the administrators that ``wrong_codes``
    wrong authenticator codes in a row were sent for ``user``'s account. Call in the transaction that counted
    them."""
    rows = Notification.objects.bulk_create(
        Notification(
            staff_user=user,
            wrong_codes=wrong_codes,
            kind=Notification.Kind.STAFF_SIGN_IN_ALERT,
            channel=Notification.Channel.EMAIL,
            recipient=recipient,
        )
        for recipient in staff_sign_in_alert_recipients(user)
    )
    if rows:
        notifications_enqueue_on_commit(rows)
    else:
        logger.warning("wrong sign-in codes on staff account %s: nobody has an e-mail address to tell", user.pk)
    return rows


def notification_queue_once(
    *,
    request: CallbackRequest,
    kind: str,
    calendar_sequence: int | None = None,
    held_until: dt.datetime | None = None,
) -> bool:
    """Write and queue (after commit) the appointment messages of ``kind`` (e-mail, and text when the patient chose
    texts), each once per request and channel (the outbox's unique constraint), the e-mail with its calendar file
    numbered ``calendar_sequence`` when it carries one. False when nobody is to get one (a patient without an
    address or texts) or they were written before.

    With ``held_until`` the rows are written held, due then, and not queued: `notifications_release_held` sends
    them once that time has passed, and `notifications_held_drop` takes them back before (an undone cancellation).
    A process that dies meanwhile loses nothing: the rows are in the database, and the beat job releases them."""
    written = []
    for route in booking_routes(request=request, kind=kind):
        defaults = {
            "recipient": route.recipient,
            "calendar_sequence": calendar_sequence if route.channel == Notification.Channel.EMAIL else None,
        }
        if held_until is not None:
            defaults.update(status=Notification.Status.HELD, next_attempt_at=held_until)
        notification, created = Notification.objects.get_or_create(
            request=request, kind=kind, channel=route.channel, defaults=defaults
        )
        if created:
            written.append(notification)
    if written and held_until is None:
        notifications_enqueue_on_commit(written)
    return bool(written)


def notifications_release_held(*, request: CallbackRequest, kind: str) -> int:
    """Turn the request's held messages of ``kind`` (e-mail and text) into pending ones, due now, and queue them
    after commit. Call in the transaction that ends their hold. Returns how many."""
    rows = list(
        Notification.objects.select_for_update().filter(request=request, kind=kind, status=Notification.Status.HELD)
    )
    now = timezone.now()
    for row in rows:
        row.status, row.next_attempt_at, row.request = Notification.Status.PENDING, now, request
    Notification.objects.bulk_update(rows, ["status", "next_attempt_at"])
    if rows:
        notifications_enqueue_on_commit(rows)
    return len(rows)


def notifications_held_drop(*, request: CallbackRequest, kind: str) -> int:
    """Delete the request's held messages of ``kind``: they were never sent and never will be. Returns how many."""
    deleted, _ = Notification.objects.filter(request=request, kind=kind, status=Notification.Status.HELD).delete()
    return deleted


def notification_for_call_today(request: CallbackRequest) -> bool:
    """Write and queue (after commit) the text telling the patient we call today, and between which times; once
    per request (the unique constraint). False when no text goes (they chose none) or it was written before."""
    written = []
    for route in call_today_routes(request):
        notification, created = Notification.objects.get_or_create(
            request=request, kind=route.kind, channel=route.channel, defaults={"recipient": route.recipient}
        )
        if created:
            written.append(notification)
    if written:
        notifications_enqueue_on_commit(written)
    return bool(written)


def notification_for_appointment_reminder(request: CallbackRequest, *, calendar_sequence: int) -> list[Notification]:
    """Write and queue (after commit) the reminders of the request's appointment (e-mail and text, as the patient
    chose); none when the patient gave neither. One per appointment time: the caller stamps the appointment in the
    same transaction. The e-mail's calendar file repeats the last one sent (``calendar_sequence``)."""
    rows = Notification.objects.bulk_create(
        Notification(
            request=request,
            kind=route.kind,
            channel=route.channel,
            recipient=route.recipient,
            calendar_sequence=calendar_sequence if route.channel == Notification.Channel.EMAIL else None,
        )
        for route in booking_routes(request=request, kind=Notification.Kind.BOOKING_REMINDER)
    )
    if rows:
        notifications_enqueue_on_commit(rows)
    return rows


def notifications_enqueue_on_commit(notifications: Iterable[Notification]) -> None:
    rows = list(notifications)
    ids = [notification.pk for notification in rows]
    lanes = {notification.pk: _lane_of(notification) for notification in rows}
    transaction.on_commit(lambda: notifications_enqueue(ids, lanes=lanes))


def _lane_of(notification: Notification) -> str:
    # The request was written (or loaded) with the row: no query.
    priority = notification.request.priority if notification.request_id else None
    return notification_lane(kind=notification.kind, priority=priority, channel=notification.channel)


def notifications_enqueue(ids: Iterable[int], *, lanes: dict[int, str] | None = None) -> int:
    """Publish one task message per id, each to its lane's queue (`lanes`; the routine lane for an id it does not
    name). Never raises: what cannot be queued now, the beat job queues later."""
    queued = 0
    lanes = lanes or {}
    for notification_id in ids:
        try:
            current_app.tasks[NOTIFICATION_SEND_TASK].apply_async(
                args=[notification_id], queue=lane_queue(lanes.get(notification_id, ROUTINE))
            )
        except Exception as exc:  # noqa: BLE001 - whatever the broker's failure, the patient's form must succeed
            logger.warning(
                "notification %s not queued (%s); it stays pending for the re-queue job",
                notification_id,
                type(exc).__name__,
            )
        else:
            queued += 1
    return queued


@transaction.atomic
def notification_resend(*, notification: Notification) -> bool:
    """Put a failed notification back in the queue: one the outbox gave up on, or a text the provider took but
    reports failed or undelivered (its receipts stay; the new sending gets receipts of its own). Returns False if
    it was neither, or if it is a follow-up e-mail whose follow-up can no longer be answered (answered or stopped
    since)."""
    failed = Q(status=Notification.Status.FAILED) | Q(
        status=Notification.Status.SENT, delivery_status__in=TEXT_DELIVERY_FAILED
    )
    updated = (
        Notification.objects.filter(failed, pk=notification.pk)
        .exclude(follow_up__status__in=FOLLOW_UP_FINAL_STATUSES)
        .update(
            status=Notification.Status.PENDING,
            attempts=0,
            next_attempt_at=timezone.now(),
            sent_at=None,
            provider_message_id="",
            delivery_status="",
            delivery_status_at=None,
        )
    )
    if updated:
        notification.status = Notification.Status.PENDING
        notification.provider_message_id = notification.delivery_status = ""
        follow_up_delivery_follow(notification=notification)
        notifications_enqueue_on_commit([notification])
    return bool(updated)


def follow_up_delivery_follow(*, notification: Notification) -> None:
    """An outcome follow-up shows what became of its messages, whose outbox rows are the one record of the
    delivery: failed when every row (its e-mail, its text) failed for good, sent again when a row is re-sent. Call
    in the transaction that changed the row's status; a row of no follow-up, and a follow-up answered or stopped,
    are left alone."""
    if notification.follow_up_id is None:
        return
    if notification.status == Notification.Status.FAILED:
        others = Notification.objects.filter(follow_up_id=notification.follow_up_id).exclude(pk=notification.pk)
        if others.exclude(status=Notification.Status.FAILED).exists():
            return  # its other message (the e-mail or the text) is on its way or went
        before, after = FollowUp.Status.SENT, FollowUp.Status.FAILED
    elif notification.status == Notification.Status.PENDING:
        before, after = FollowUp.Status.FAILED, FollowUp.Status.SENT
    else:
        return
    FollowUp.objects.filter(pk=notification.follow_up_id, status=before).update(status=after)


def outbox_requeue_stale(*, lane: str | None = None, limit: int = 500) -> int:
    """Queue again the pending rows of ``lane`` (None: every lane) whose message is overdue (lost, or never
    published), the most urgent request's oldest row first. Returns how many.

    Each row is claimed before it is published: in one transaction the overdue rows are locked, skipping rows
    another transaction holds (a second beat re-queueing at the same moment, or a worker still sending that
    row), and their `next_attempt_at` moves to now, so they are not overdue again for OUTBOX_STALE_AFTER_SECONDS.
    The ids are published only after that commit, so two re-queues never publish the same row twice. (SQLite
    has no row locks; there the transaction takes the database's write lock at once, which serialises
    re-queues just the same.)
    """
    now = timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.OUTBOX_STALE_AFTER_SECONDS)
    overdue = Notification.objects.pending().filter(next_attempt_at__lt=cutoff)
    if lane is not None:
        overdue = overdue.filter(lane_filter(lane))
    with transaction.atomic():
        rows = list(
            overdue.order_by(F("request__priority").asc(nulls_last=True), "next_attempt_at")
            # The rows only: the requests they announce stay free for staff to work on.
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", "kind", "request__priority", "channel")[:limit]
        )
        ids = [pk for pk, _, _, _ in rows]
        if ids:
            Notification.objects.filter(pk__in=ids).update(next_attempt_at=now)
    if ids:
        lanes = {
            pk: notification_lane(kind=kind, priority=priority, channel=channel) for pk, kind, priority, channel in rows
        }
        notifications_enqueue(ids, lanes=lanes)
        logger.info("re-queued %s stale notification(s)%s", len(ids), f" in the {lane} lane" if lane else "")
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
                    recipient=escalation_recipient(),
                )
                notifications_enqueue_on_commit([notification])
        except IntegrityError:
            continue  # escalated meanwhile by another run: the unique constraint keeps it to one
        escalated += 1
    if escalated:
        logger.info("escalated %s overdue request(s)", escalated)
    return escalated
