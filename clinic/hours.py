"""The clinic's opening hours: parsed once from a setting, asked in the clinic's own time zone.

Callback windows and the response deadline, which are counted in these hours, live in `callbacks`.
"""

import datetime as dt
import re
from zoneinfo import ZoneInfo

from django.conf import settings

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PART = re.compile(r"^(?P<days>[a-z]{3}(?:-[a-z]{3})?)\s+(?P<start>\d{2}:\d{2})-(?P<end>\d{2}:\d{2})$")


def parse_opening_hours(spec: str) -> dict[int, tuple[dt.time, dt.time]]:
    """Turn "mon-fri 08:00-18:00; sat 09:00-13:00" into {weekday: (opens, closes)}, Monday being 0.

    Raises ValueError on anything it cannot read, so a typo stops the site at start-up.
    """
    hours: dict[int, tuple[dt.time, dt.time]] = {}
    for part in filter(None, (p.strip().lower() for p in spec.split(";"))):
        match = _PART.match(part)
        if not match:
            raise ValueError(f"Opening hours: cannot read {part!r}; expected e.g. 'mon-fri 08:00-18:00'.")
        first, _, last = match["days"].partition("-")
        if first not in WEEKDAYS or (last and last not in WEEKDAYS):
            raise ValueError(f"Opening hours: unknown day in {part!r}.")
        opens = dt.time.fromisoformat(match["start"])
        closes = dt.time.fromisoformat(match["end"])
        if opens >= closes:
            raise ValueError(f"Opening hours: {part!r} closes before it opens.")
        for day in range(WEEKDAYS.index(first), WEEKDAYS.index(last or first) + 1):
            hours[day] = (opens, closes)
    if not hours:
        raise ValueError("Opening hours: at least one opening day is needed.")
    return hours


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def opening_hours_on(day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
    """When the clinic opens and closes on ``day`` (aware, in its zone), or None when it is closed."""
    hours = settings.CLINIC_OPENING_HOURS.get(day.weekday())
    if hours is None:
        return None
    zone = clinic_zone()
    return dt.datetime.combine(day, hours[0], tzinfo=zone), dt.datetime.combine(day, hours[1], tzinfo=zone)
