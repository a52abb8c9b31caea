"""The clinic's opening hours: parsed once from a setting, asked in the clinic's own time zone."""

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


def callback_windows(day: dt.date) -> dict[dt.time, tuple[dt.datetime, dt.datetime]]:
    """The callback windows offered on a day: {block start: (from, until)}, aware, in the clinic's zone.

    The day is cut into fixed blocks of CLINIC_CALLBACK_WINDOW_MINUTES counted from midnight (08:00-10:00,
    10:00-12:00, ...), so a block means the same clock times every day; each block is trimmed to the day's
    opening hours. A closed day has none.
    """
    hours = settings.CLINIC_OPENING_HOURS.get(day.weekday())
    if hours is None:
        return {}
    zone = clinic_zone()
    opens = dt.datetime.combine(day, hours[0])
    closes = dt.datetime.combine(day, hours[1])
    step = dt.timedelta(minutes=settings.CLINIC_CALLBACK_WINDOW_MINUTES)
    midnight = dt.datetime.combine(day, dt.time())
    block = midnight + step * ((opens - midnight) // step)
    windows = {}
    while block < closes:
        windows[block.time()] = (max(block, opens).replace(tzinfo=zone), min(block + step, closes).replace(tzinfo=zone))
        block += step
    return windows


def callback_block_starts() -> list[dt.time]:
    """Every block start offered on any open day, for the form's choice list."""
    starts = set()
    for weekday in settings.CLINIC_OPENING_HOURS:
        # Any date with that weekday will do: the blocks depend only on the hours.
        starts.update(callback_windows(dt.date(2024, 1, 1) + dt.timedelta(days=weekday)))
    return sorted(starts)


_ALLOWANCE = re.compile(r"^(?P<amount>\d+)(?P<unit>[mhd])$")


def parse_deadlines(spec: str) -> dict[str, str]:
    """Read "emergency=15m, urgent=2h, review=1d, routine=1d" into {priority name: allowance}."""
    deadlines = {}
    for part in filter(None, (p.strip().lower() for p in spec.split(","))):
        name, _, allowance = (item.strip() for item in part.partition("="))
        if not _ALLOWANCE.match(allowance):
            raise ValueError(f"Response deadlines: cannot read {part!r}; expected e.g. 'urgent=2h'.")
        deadlines[name] = allowance
    return deadlines


def _opening(day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
    hours = settings.CLINIC_OPENING_HOURS.get(day.weekday())
    if hours is None:
        return None
    zone = clinic_zone()
    return dt.datetime.combine(day, hours[0], tzinfo=zone), dt.datetime.combine(day, hours[1], tzinfo=zone)


def working_deadline(start: dt.datetime, allowance: str) -> dt.datetime:
    """The moment an allowance of working time runs out, counting only the clinic's opening hours.

    "15m" and "2h" are minutes and hours of opening time from `start` (a request at night counts from the
    next opening); "1d" is closing time on the first working day after the day of `start`.
    """
    match = _ALLOWANCE.match(allowance)
    if match is None:
        raise ValueError(f"Unknown deadline allowance {allowance!r}")
    amount, unit = int(match["amount"]), match["unit"]
    cursor = start.astimezone(clinic_zone())
    day = cursor.date()
    for _ in range(370):  # a year of days; opening hours always have an open weekday
        opening = _opening(day)
        if unit == "d":
            if opening and day > cursor.date():
                amount -= 1
                if amount <= 0:
                    return opening[1]
        elif opening:
            opens, closes = opening
            cursor = max(cursor, opens)
            if cursor < closes:
                remaining = dt.timedelta(minutes=amount * (60 if unit == "h" else 1))
                if cursor + remaining <= closes:
                    return cursor + remaining
                amount = int((remaining - (closes - cursor)).total_seconds() // 60)
                unit = "m"
        day += dt.timedelta(days=1)
    raise ValueError("Opening hours leave no working time within a year.")
