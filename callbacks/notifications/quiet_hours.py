"""Quiet hours: the one home of "may this text go out now, or wait for the morning". Texts written or due at night
wait until the morning (CLINIC_TEXT_QUIET_HOURS, in the clinic's time zone; "" switches quiet hours off), except:
- every text to the patient of an emergency or urgent request, whatever its kind (a confirmation, move, decline or
  reminder of their appointment as much as "we call you today"): the request's priority decides, not the lane;
- the essential texts (`ESSENTIAL_TEXT_KINDS`: the confirmation of a request, the clinic calling an appointment
  off), which go even to a number that replied STOP;
- the answer to what the patient has just done themselves (their own cancellation): they are awake, and waiting
  for it."""

import datetime as dt

from django.conf import settings
from django.utils import timezone

from callbacks.models import Notification
from callbacks.notifications.optouts import ESSENTIAL_TEXT_KINDS
from callbacks.rules.requests import priority_is_urgent

# Texts that answer the patient's own action at once, and how long after it they still count as that answer.
ANSWER_KINDS = frozenset({Notification.Kind.PATIENT_CONFIRMATION, Notification.Kind.BOOKING_CANCELLED_BY_PATIENT})
ANSWER_WITHIN = dt.timedelta(minutes=15)


def quiet_hours() -> tuple[dt.time, dt.time] | None:
    spec = settings.CLINIC_TEXT_QUIET_HOURS.strip()
    if not spec:
        return None
    start, _, end = spec.partition("-")
    return dt.time.fromisoformat(start.strip()), dt.time.fromisoformat(end.strip())


def quiet_hours_end(now: dt.datetime) -> dt.datetime | None:
    """When the quiet hours ``now`` falls in end (an aware datetime), or None when ``now`` is not in them."""
    hours = quiet_hours()
    if hours is None:
        return None
    start, end = hours
    local = timezone.localtime(now)
    clock = local.time()
    if start == end:
        return None
    overnight = start > end
    inside = (clock >= start or clock < end) if overnight else (start <= clock < end)
    if not inside:
        return None
    day = local.date() + dt.timedelta(days=1) if overnight and clock >= start else local.date()
    return timezone.make_aware(dt.datetime.combine(day, end), timezone.get_current_timezone())


def text_never_waits(notification: Notification) -> bool:
    """Whether the text goes at once whatever the hour: a text of an emergency or urgent request, or an essential
    one."""
    if notification.kind in ESSENTIAL_TEXT_KINDS:
        return True
    request = notification.request if notification.request_id else None
    return request is not None and priority_is_urgent(request.priority)


def text_held_until(notification: Notification, *, now: dt.datetime) -> dt.datetime | None:
    """When a text taken ``now`` may go: None for at once, else the end of the quiet hours it falls in."""
    if text_never_waits(notification):
        return None
    if notification.kind in ANSWER_KINDS and now - notification.created_at < ANSWER_WITHIN:
        return None
    return quiet_hours_end(now)
