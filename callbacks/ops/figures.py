"""The operator's figures, read from the database in four queries whatever the tables' size: counts and ages,
never a name, a reference or an answer.

Each figure reuses the rule that defines it: open and overdue requests (`CallbackRequest.objects`), the lanes
(`callbacks.notifications.lanes.lane_filter`), the staff alerts (`lanes.STAFF_ALERT_KINDS`), follow-ups due
(`FollowUp.objects.due`), the heartbeat (`clinic.heartbeat`).
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Min, Q
from django.utils import timezone

from callbacks.models import CallbackRequest, FollowUp, Notification, Priority
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
    notifications_pending_oldest_age: dict[str, float]  # by lane, seconds; 0 with none pending
    notifications_failed: dict[str, int]  # by lane
    staff_alerts_pending_oldest_age: dict[str, float]  # emergency and urgent, seconds; 0 with none pending
    follow_ups_due: int
    heartbeats: list[Liveness]


def _age(now: dt.datetime, since: dt.datetime | None) -> float:
    return max((now - since).total_seconds(), 0.0) if since else 0.0


def ops_figures(*, now: dt.datetime | None = None) -> OpsFigures:
    """The figures at ``now``: one query for requests, one for the outbox, one for follow-ups, one for the
    heartbeat."""
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
    staff_alert = Q(kind__in=STAFF_ALERT_KINDS)
    outbox = Notification.objects.filter(pending | failed).aggregate(
        **{f"pending_{lane}": Count("pk", filter=pending & lane_filter(lane)) for lane in LANES},
        **{f"oldest_{lane}": Min("created_at", filter=pending & lane_filter(lane)) for lane in LANES},
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
    )
