"""Quiet hours: the one home of "may this text go out now". Non-urgent texts written or due at night wait until
the morning; the texts of an emergency or urgent request never wait (CLINIC_TEXT_QUIET_HOURS, in the clinic's time
zone; "" switches quiet hours off)."""

import datetime as dt

from django.conf import settings
from django.utils import timezone


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
