"""The response deadline: how long staff have to respond to a request of each priority, counted in working time.

The allowance per priority is the setting CLINIC_RESPONSE_DEADLINES (read at start-up by
`clinic.setting_parsers.parse_deadlines`); working time is the clinic's opening hours (`clinic.hours`); the clock
runs while the request is in one of `callbacks.rules.requests.AWAITING_RESPONSE_STATUSES` (a request past its
deadline in those statuses is overdue).
"""

import datetime as dt
from collections.abc import Container

from django.conf import settings

from callbacks.rules.requests import Priority, priority_is_urgent
from clinic.hours import clinic_zone, opening_hours_on
from clinic.setting_parsers import DEADLINE_ALLOWANCE

DEADLINE_SEARCH_DAYS = 370


def response_deadline(
    *, priority: int, received_at: dt.datetime, closed: Container[dt.date] = frozenset()
) -> dt.datetime:
    """When staff must have responded to a request of this priority, in the clinic's working time; the days in
    ``closed`` (bank holidays, the clinic's closures: `callbacks.requests.closures.request_response_deadline`
    passes them) do not count."""
    allowance = settings.CLINIC_RESPONSE_DEADLINES[Priority(priority).name.lower()]
    return working_deadline(received_at, allowance, closed=closed)


def promised_deadline(
    *, priority: int, booking: bool, window_start: dt.datetime, window_end: dt.datetime, by_priority: dt.datetime
) -> dt.datetime:
    """The deadline staff are held to, agreeing with what the patient was promised (issue 14, item 4).

    A callback: the end of the window the patient chose, unless the priority demands sooner (urgent or emergency:
    then ``by_priority``, the priority's own deadline, when it is earlier). A booking: confirmed before the
    appointment starts, and by the priority's deadline when that is sooner. A red flag found later moves the
    deadline earlier, never later (`callbacks.requests.services`).
    """
    if booking:
        return min(by_priority, window_start)
    if priority_is_urgent(priority):
        return min(by_priority, window_end)
    return window_end


def working_deadline(start: dt.datetime, allowance: str, *, closed: Container[dt.date] = frozenset()) -> dt.datetime:
    """The moment an allowance of working time runs out, counting only the clinic's opening hours.

    "15m" and "2h" are minutes and hours of opening time from `start` (a request at night counts from the
    next opening); "1d" is closing time on the first working day after the day of `start`. Days in ``closed``
    (bank holidays, clinic closures) are not working days: the clock stops on them.
    """
    match = DEADLINE_ALLOWANCE.match(allowance)
    if match is None:
        raise ValueError(f"Unknown deadline allowance {allowance!r}")
    amount, unit = int(match["amount"]), match["unit"]
    cursor = start.astimezone(clinic_zone())
    day = cursor.date()
    for _ in range(DEADLINE_SEARCH_DAYS):  # a year of days; opening hours always have an open weekday
        opening = None if day in closed else opening_hours_on(day)
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
