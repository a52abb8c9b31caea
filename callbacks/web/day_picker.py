"""The patients' day picker: a week of days with their free-time counts, then one day's free times.

Shared by booking (`callbacks.web.booking`), the reschedule link (`callbacks.web.reschedule`) and the front
desk's move page (`callbacks.admin.diary`, ``by_staff``: the desk's booking horizon): plain GET
parameters (``?week=0..3``, ``?day=YYYY-MM-DD``) so that it works without JavaScript and the chosen day stays in
the address. The free times and the counts come from `callbacks.booking.slots`; this module only lays them out.
"""

import datetime as dt
from urllib.parse import urlencode

from django.utils import timezone

from callbacks.booking.slots import (
    PATIENT_HORIZON_DAYS,
    STAFF_HORIZON_DAYS,
    WEEKS_AHEAD,
    Slot,
    booking_horizon_last_day,
    slots_free,
    slots_free_per_day,
)
from callbacks.models import Service

DAYS_PER_PAGE = 7
# The afternoon starts at noon, clinic time.
AFTERNOON = 12


def day_picker_context(query, *, service: Service, keep: dict | None = None, by_staff: bool = False) -> dict:
    """What the day picker's templates need for the request's ``query`` (its GET parameters).

    With a bookable day that has free times: ``day`` and its ``day_parts`` (step 2). Otherwise the week's days
    (step 1, ``day`` None), with ``problem`` saying why a day asked for is not shown. ``keep`` holds parameters
    every link carries along (a journey's id). ``by_staff``: the front desk's booking horizon, not the patients'.
    """
    keep = keep or {}
    today = timezone.localdate()
    weeks = _weeks(by_staff)
    day, problem = _day_asked(query.get("day"), today=today, by_staff=by_staff)
    week = (day - today).days // DAYS_PER_PAGE if day else _week_asked(query.get("week"), weeks=weeks)
    slots = slots_free(service=service, first_day=day, days=1, by_staff=by_staff) if day else []
    if day and not slots:
        problem = f"There are no free times on {day:%A} {day.day} {day:%B}. Choose another day."
    context = {
        "day": None,
        "problem": problem,
        "week_url": _query(keep, week=week),
        "previous_week_url": _query(keep, week=week - 1) if week > 0 else None,
        "next_week_url": _query(keep, week=week + 1) if week + 1 < weeks else None,
    }
    if slots:
        return {
            **context,
            "day": day,
            "day_parts": _day_parts(slots),
            "several_practitioners": service.practitioners.filter(active=True).count() > 1,
        }
    first_day = today + dt.timedelta(days=week * DAYS_PER_PAGE)
    days = slots_free_per_day(service=service, first_day=first_day, days=DAYS_PER_PAGE, by_staff=by_staff)
    return {
        **context,
        "today": today,
        "days": [(each, _query(keep, day=each.day.isoformat())) for each in days],
        "first_day": first_day,
        "last_day": first_day + dt.timedelta(days=DAYS_PER_PAGE - 1),
        "any_free": any(each.free for each in days),
    }


def _query(keep: dict, **params) -> str:
    return "?" + urlencode({**params, **keep})


def _weeks(by_staff: bool) -> int:
    """How many weeks of days the picker pages through: the booking horizon's."""
    return -(-(STAFF_HORIZON_DAYS if by_staff else PATIENT_HORIZON_DAYS) // DAYS_PER_PAGE)


def _week_asked(value: str | None, *, weeks: int = WEEKS_AHEAD) -> int:
    try:
        return max(0, min(int(value or 0), weeks - 1))
    except ValueError:
        return 0


def _day_asked(value: str | None, *, today: dt.date, by_staff: bool = False) -> tuple[dt.date | None, str | None]:
    """The day asked for (``?day=YYYY-MM-DD``) if it may be booked, else None and what to tell the reader."""
    if value is None:
        return None, None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return None, "We could not read that day. Choose one of the days below."
    if day < today:
        return None, "That day has passed. Choose one of the days below."
    if by_staff and day > booking_horizon_last_day(by_staff=True):
        last_day = booking_horizon_last_day(by_staff=True)
        return None, f"Times can be booked up to {last_day:%A %-d %B %Y}. Choose one of the days below."
    if not by_staff and (day - today).days >= PATIENT_HORIZON_DAYS:
        return None, f"You can book up to {WEEKS_AHEAD} weeks ahead online. Choose one of the days below, or call us."
    return day, None


def _day_parts(slots: list[Slot]) -> list[tuple[str, list[Slot]]]:
    """A day's slots split into morning and afternoon, leaving out a part with none."""
    morning = [slot for slot in slots if slot.local_start.hour < AFTERNOON]
    afternoon = [slot for slot in slots if slot.local_start.hour >= AFTERNOON]
    return [(name, part) for name, part in (("Morning", morning), ("Afternoon", afternoon)) if part]
