"""The operator's figures, read from the database in six queries whatever the tables' size: counts and ages,
never a name, a reference, an answer or a text's words.

Each figure reuses the rule that defines it: open and overdue requests (`CallbackRequest.objects`), the lanes
(`callbacks.notifications.lanes.lane_filter`), the staff alerts (`lanes.STAFF_ALERT_KINDS`), follow-ups due
(`FollowUp.objects.due`), the heartbeat (`clinic.heartbeat`), texts' delivery receipts (`TextReceipt.Status`) and
patients' texts nobody has read (`InboundText.seen_at`).
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Min, Q
from django.utils import timezone

from callbacks.models import CallbackRequest, FollowUp, InboundText, Notification, Priority, TextReceipt
from callbacks.notifications.lanes import LANES, STAFF_ALERT_KINDS, lane_filter
from callbacks.rules.requests import AWAITING_RESPONSE_STATUSES, URGENT_PRIORITIES
from clinic.heartbeat import Liveness, liveness


def priority_name(priority: int) -> str:
    return Priority(priority).name.lower()


@dataclass(frozen=True)
class OpsFigures:
    requests_open: dict[str, int]  # by priority name
    requests_overdue: dict[str, int]  # by priority name
    notifications_pending: dict[str, int]  # by lane
    notifications_pending_oldest_age: dict[str, float]  # by lane, seconds, of rows due now; 0 with none due
    notifications_failed: dict[str, int]  # by lane
    staff_alerts_pending_oldest_age: dict[str, float]  # emergency and urgent, seconds; 0 with none pending
    follow_ups_due: int
    heartbeats: list[Liveness]
    text_receipts: dict[str, int]  # by status, every receipt stored
    text_receipts_last_hour: dict[str, int]  # by status, received in the last hour
    texts_unread: int  # patients' texts nobody has read
    texts_unread_oldest_age: float  # seconds; 0 with none


# The receipts' window for "lately" (the alert on texts not delivered).
RECEIPTS_RECENT = dt.timedelta(hours=1)


def _age(now: dt.datetime, since: dt.datetime | None) -> float:
    return max((now - since).total_seconds(), 0.0) if since else 0.0


def ops_figures(*, now: dt.datetime | None = None) -> OpsFigures:
    """The figures at ``now``: one query for requests, one for the outbox, one for follow-ups, one for the
    heartbeat, one for texts' receipts, one for patients' texts not read."""
    now = now or timezone.now()
    requests = {priority_name(p): (0, 0) for p in Priority.values}
    rows = (
        CallbackRequest.objects.open()
        .values("priority")
        .annotate(
            open=Count("pk"),
            overdue=Count("pk", filter=Q(status__in=AWAITING_RESPONSE_STATUSES, deadline__lt=now)),
        )
        .order_by()
    )
    for row in rows:
        requests[priority_name(row["priority"])] = (row["open"], row["overdue"])

    pending = Q(status=Notification.Status.PENDING)
    failed = Q(status=Notification.Status.FAILED)
    # A text held for quiet hours is pending but not due until the morning: it is no backlog, so the oldest age
    # counts only rows already due (the pending count keeps every one).
    due = pending & Q(next_attempt_at__lte=now)
    staff_alert = Q(kind__in=STAFF_ALERT_KINDS)
    outbox = Notification.objects.filter(pending | failed).aggregate(
        **{f"pending_{lane}": Count("pk", filter=pending & lane_filter(lane)) for lane in LANES},
        **{f"oldest_{lane}": Min("created_at", filter=due & lane_filter(lane)) for lane in LANES},
        **{f"failed_{lane}": Count("pk", filter=failed & lane_filter(lane)) for lane in LANES},
        **{
            f"alert_{priority_name(p)}": Min("created_at", filter=pending & staff_alert & Q(request__priority=p))
            for p in URGENT_PRIORITIES
        },
    )
    return OpsFigures(
        requests_open={name: counts[0] for name, counts in requests.items()},
        requests_overdue={name: counts[1] for name, counts in requests.items()},
        notifications_pending={lane: outbox[f"pending_{lane}"] for lane in LANES},
        notifications_pending_oldest_age={lane: _age(now, outbox[f"oldest_{lane}"]) for lane in LANES},
        notifications_failed={lane: outbox[f"failed_{lane}"] for lane in LANES},
        staff_alerts_pending_oldest_age={
            priority_name(p): _age(now, outbox[f"alert_{priority_name(p)}"]) for p in sorted(URGENT_PRIORITIES)
        },
        follow_ups_due=FollowUp.objects.due(now).count(),
        heartbeats=liveness(now=now),
        **_text_figures(now),
    )


def _text_figures(now: dt.datetime) -> dict:
    recent = Q(received_at__gte=now - RECEIPTS_RECENT)
    statuses = TextReceipt.Status.values
    receipts = TextReceipt.objects.aggregate(
        **{f"all_{status}": Count("pk", filter=Q(status=status)) for status in statuses},
        **{f"recent_{status}": Count("pk", filter=Q(status=status) & recent) for status in statuses},
    )
    unread = InboundText.objects.filter(seen_at__isnull=True).aggregate(count=Count("pk"), oldest=Min("received_at"))
    return {
        "text_receipts": {status: receipts[f"all_{status}"] for status in statuses},
        "text_receipts_last_hour": {status: receipts[f"recent_{status}"] for status in statuses},
        "texts_unread": unread["count"],
        "texts_unread_oldest_age": _age(now, unread["oldest"]),
    }
