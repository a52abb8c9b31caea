"""When outcome follow-ups are written and when they go out.

A request that becomes a patient gets one `FollowUp` row per ``CLINIC_FOLLOW_UP_WEEKS`` entry; the beat job
hands each due row to the outbox once. Both are idempotent: the unique (request, weeks) constraint and the
row's status make a second run change nothing. The workflow (`callbacks.requests.workflow`) calls the scheduler,
so this module does not import it.
"""

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from callbacks.models import CallbackRequest, FollowUp, Notification
from callbacks.notifications.outbox import notifications_enqueue_on_commit
from callbacks.notifications.routing import follow_up_routes
from callbacks.rules.followups import follow_up_due_at

logger = logging.getLogger(__name__)


def follow_up_schedule(*, request: CallbackRequest, started_at: dt.datetime | None = None) -> int:
    """Write the follow-ups a patient is owed, counted from ``started_at`` (default now). Returns how many new.

    Guarantees: at most one row per request and week, however often it is called (a request booked, moved back
    and booked again keeps its first schedule); nothing for a patient who has stopped the follow-ups.
    """
    if request.follow_ups_stopped_at is not None or not settings.CLINIC_FOLLOW_UP_WEEKS:
        return 0
    started_at = started_at or timezone.now()
    existing = set(FollowUp.objects.filter(request=request).values_list("weeks", flat=True))
    rows = [
        FollowUp(request=request, weeks=weeks, due_at=follow_up_due_at(started_at=started_at, weeks=weeks))
        for weeks in settings.CLINIC_FOLLOW_UP_WEEKS
        if weeks not in existing
    ]
    # ignore_conflicts: two transitions committing at once still leave one row per week.
    FollowUp.objects.bulk_create(rows, ignore_conflicts=True)
    if rows:
        logger.info("callback request %s: %d follow-up(s) scheduled", request.reference, len(rows))
    return len(rows)


def follow_ups_send_due(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Hand every due follow-up to the outbox as one e-mail and, when the patient chose texts, one text; return
    how many follow-ups were written.

    Each due row is claimed (locked, skipping rows another run holds) and marked sent in the same transaction as
    its outbox row, so two runs at once never write two e-mails, and the outbox's delivery, retries and re-queue
    take it from there. A patient with neither an e-mail address nor texts is skipped for good. Logs counts only.
    """
    now = now or timezone.now()
    written = skipped = 0
    with transaction.atomic():
        due = list(
            FollowUp.objects.due(now)
            .select_related("request")
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("due_at")[:limit]
        )
        notifications = []
        for follow_up in due:
            routes = follow_up_routes(follow_up.request)
            if not routes:
                follow_up.status = FollowUp.Status.SKIPPED
                follow_up.save(update_fields=["status"])
                skipped += 1
                continue
            notifications.extend(
                Notification.objects.create(
                    request=follow_up.request,
                    follow_up=follow_up,
                    kind=route.kind,
                    channel=route.channel,
                    recipient=route.recipient,
                )
                for route in routes
            )
            follow_up.status, follow_up.sent_at = FollowUp.Status.SENT, now
            follow_up.save(update_fields=["status", "sent_at"])
            written += 1
        notifications_enqueue_on_commit(notifications)
    if written or skipped:
        logger.info("follow-ups: %d written to the outbox, %d skipped (no e-mail address)", written, skipped)
    return written
