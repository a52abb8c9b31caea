"""Which Celery queue a notification travels in: the one home of the priority lanes.

Staff notifications about an emergency or urgent request (the new request, a priority raised by later answers,
an overdue escalation, a text to the patient that failed), and the texts telling such a patient when we call
(`URGENT_TEXT_KINDS`), travel in the urgent lane: a queue of its own with worker processes of its own, so a
backlog of routine mail (a morning batch of follow-ups, a surge after a news story, a slow mail server) never
stands in front of them. Everything else travels in the routine lane. A worker started without `-Q` takes both.
"""

from django.conf import settings
from django.db.models import Q

from callbacks.models import Notification
from callbacks.rules.requests import URGENT_PRIORITIES, priority_is_urgent

URGENT = "urgent"
ROUTINE = "routine"
LANES = (URGENT, ROUTINE)

# What staff must act on now when the request is urgent or an emergency.
STAFF_ALERT_KINDS = frozenset(
    {
        Notification.Kind.STAFF_NEW_REQUEST,
        Notification.Kind.STAFF_PRIORITY_RAISED,
        Notification.Kind.ESCALATION,
        # Written only for an emergency or urgent request (`callbacks.notifications.receipts`).
        Notification.Kind.TEXT_FAILED,
    }
)


# Urgent in themselves, whatever the request: the staff alert about a red-flag text from a number no request has,
# and the advice texted back to the patient who sent a red-flag text.
ALWAYS_URGENT_KINDS = frozenset(
    {Notification.Kind.TEXT_RED_FLAG, Notification.Kind.TEXT_EMERGENCY_ADVICE, Notification.Kind.TEXT_URGENT_ADVICE}
)


def lane_queue(lane: str) -> str:
    """The Celery queue of a lane (settings CELERY_URGENT_QUEUE and CELERY_TASK_DEFAULT_QUEUE)."""
    return settings.CELERY_URGENT_QUEUE if lane == URGENT else settings.CELERY_TASK_DEFAULT_QUEUE


# The texts telling a patient of an emergency or urgent request when we call, or that their appointment is off: a
# patient with only a phone must not wait behind a routine backlog for them (and they never wait for quiet hours).
URGENT_TEXT_KINDS = frozenset(
    {
        Notification.Kind.PATIENT_CONFIRMATION,
        Notification.Kind.CALL_TODAY,
        Notification.Kind.BOOKING_CANCELLED_BY_CLINIC,
    }
)


def notification_lane(*, kind: str, priority: int | None, channel: str = Notification.Channel.EMAIL) -> str:
    """The lane of a notification of ``kind`` by ``channel`` about a request of ``priority`` (None: no request)."""
    if kind in ALWAYS_URGENT_KINDS:
        return URGENT
    if priority is None or not priority_is_urgent(priority):
        return ROUTINE
    if kind in STAFF_ALERT_KINDS:
        return URGENT
    if channel == Notification.Channel.SMS and kind in URGENT_TEXT_KINDS:
        return URGENT
    return ROUTINE


def lane_filter(lane: str) -> Q:
    """The outbox rows of a lane, for a queryset of Notification."""
    urgent = Q(kind__in=ALWAYS_URGENT_KINDS) | Q(request__priority__in=URGENT_PRIORITIES) & (
        Q(kind__in=STAFF_ALERT_KINDS) | Q(channel=Notification.Channel.SMS, kind__in=URGENT_TEXT_KINDS)
    )
    return urgent if lane == URGENT else ~urgent
