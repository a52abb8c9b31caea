"""The callback windows a patient can choose: fixed blocks of the clinic's opening hours.

The one home of what a patient is told about call times: the windows offered, their labels and the hours in the
hint all come from `callback_windows`, so the hint can never promise a time the list does not offer.
"""

import calendar
import datetime as dt

from django.conf import settings

from clinic.hours import clinic_zone

# Any date of a weekday will do where only the weekday's hours matter.
_A_MONDAY = dt.date(2024, 1, 1)

# A window must leave staff time to ring: one ending sooner than this is treated as already gone.
MIN_NOTICE = dt.timedelta(minutes=30)


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


def callback_window_labels(day: dt.date) -> dict[dt.time, str]:
    """Each window of a day as the patient reads it, trimmed to the day's hours ("09:00 to 10:00" on a day opening
    at 9), by block start."""
    return {start: f"{opens:%H:%M} to {until:%H:%M}" for start, (opens, until) in callback_windows(day).items()}


def callback_window_label(day: dt.date, start: dt.time) -> str:
    """One window's label (`callback_window_labels`)."""
    return callback_window_labels(day)[start]


def callback_hours_by_weekday() -> dict[int, tuple[dt.time, dt.time]]:
    """From the first window's start to the last window's end, per weekday with windows (Monday is 0)."""
    hours = {}
    for weekday in range(7):
        windows = list(callback_windows(_A_MONDAY + dt.timedelta(days=weekday)).values())
        if windows:
            hours[weekday] = (windows[0][0].time(), windows[-1][1].time())
    return hours


def callback_hours_text() -> str:
    """The call hours in words, days with the same hours run together: "Monday to Friday 08:00 to 18:00,
    Saturday 09:00 to 13:00"."""
    runs: list[list] = []
    for weekday, hours in sorted(callback_hours_by_weekday().items()):
        if runs and runs[-1][2] == hours and runs[-1][1] == weekday - 1:
            runs[-1][1] = weekday
        else:
            runs.append([weekday, weekday, hours])
    parts = []
    for first, last, (opens, closes) in runs:
        days = calendar.day_name[first] if first == last else f"{calendar.day_name[first]} to {calendar.day_name[last]}"
        parts.append(f"{days} {opens:%H:%M} to {closes:%H:%M}")
    return ", ".join(parts)


def callback_block_starts() -> list[dt.time]:
    """Every block start offered on any open day, for the form's choice list."""
    starts = set()
    for weekday in settings.CLINIC_OPENING_HOURS:
        # Any date with that weekday will do: the blocks depend only on the hours.
        starts.update(callback_windows(_A_MONDAY + dt.timedelta(days=weekday)))
    return sorted(starts)


def callback_window_still_open(until: dt.datetime, now: dt.datetime) -> bool:
    """Whether a window ending at ``until`` still leaves staff time to ring (MIN_NOTICE) at ``now``."""
    return until - MIN_NOTICE >= now


def callback_windows_offered(
    *, first: dt.date, last: dt.date, now: dt.datetime, closed: frozenset[dt.date]
) -> dict[dt.date, list[dt.time]]:
    """The window starts a patient can still choose on each day from ``first`` to ``last``: the day's blocks,
    without closed days, and without a block no longer open at ``now`` (`callback_window_still_open`). Days with
    none are left out, so the first key is the first day a call can still be had."""
    offered = {}
    day = first
    while day <= last:
        if day not in closed:
            starts = [
                start for start, (_, until) in callback_windows(day).items() if callback_window_still_open(until, now)
            ]
            if starts:
                offered[day] = starts
        day += dt.timedelta(days=1)
    return offered
