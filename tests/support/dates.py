import datetime as dt

from django.conf import settings
from django.utils import timezone


def next_open_day(after: dt.date | None = None, *, weekday: int | None = None) -> dt.date:
    """The first day after `after` (default today) on which the clinic opens, optionally on a given weekday."""
    day = (after or timezone.localdate()) + dt.timedelta(days=1)
    while day.weekday() not in settings.CLINIC_OPENING_HOURS or (weekday is not None and day.weekday() != weekday):
        day += dt.timedelta(days=1)
    return day
