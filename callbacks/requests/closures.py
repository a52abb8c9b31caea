"""Days the whole clinic is closed: the bank holidays of its country and the closures staff add.

The one place that answers "is the clinic open that day?" beyond the weekly hours: free slots skip these days,
the callback form refuses them, and the response deadline's working time does not run on them (the rule itself,
`callbacks.rules.deadline`, reads no database: `request_response_deadline` gives it the closed days). Bank holidays
come from the `holidays` package for ``CLINIC_HOLIDAYS_COUNTRY`` / ``CLINIC_HOLIDAYS_SUBDIVISION`` (substitute
days included, e.g. Boxing Day observed on the Monday); staff closures are `ClinicClosure` rows.
"""

import datetime as dt
from functools import lru_cache

import holidays
from django.conf import settings

from callbacks.models import ClinicClosure
from callbacks.rules.deadline import DEADLINE_SEARCH_DAYS, response_deadline
from clinic.hours import clinic_zone


@lru_cache(maxsize=32)
def _bank_holidays(country: str, subdivision: str, year: int) -> frozenset[dt.date]:
    if not country:
        return frozenset()
    return frozenset(holidays.country_holidays(country, subdiv=subdivision or None, years=year))


def bank_holidays(first: dt.date, last: dt.date) -> list[tuple[dt.date, str]]:
    """The bank holidays from ``first`` to ``last`` with their names, in date order (for staff screens)."""
    country = settings.CLINIC_HOLIDAYS_COUNTRY
    if not country:
        return []
    subdivision = settings.CLINIC_HOLIDAYS_SUBDIVISION or None
    names = holidays.country_holidays(country, subdiv=subdivision, years=range(first.year, last.year + 1))
    return sorted((day, name) for day, name in names.items() if first <= day <= last)


def clinic_closed_days(first: dt.date, last: dt.date) -> frozenset[dt.date]:
    """The days from ``first`` to ``last`` (inclusive) on which the clinic is closed all day."""
    if last < first:
        return frozenset()
    country, subdivision = settings.CLINIC_HOLIDAYS_COUNTRY, settings.CLINIC_HOLIDAYS_SUBDIVISION
    closed = {
        day
        for year in range(first.year, last.year + 1)
        for day in _bank_holidays(country, subdivision, year)
        if first <= day <= last
    }
    for closure in ClinicClosure.objects.filter(first_day__lte=last, last_day__gte=first):
        day = max(closure.first_day, first)
        while day <= min(closure.last_day, last):
            closed.add(day)
            day += dt.timedelta(days=1)
    return frozenset(closed)


def clinic_closed_on(day: dt.date) -> bool:
    return day in clinic_closed_days(day, day)


def request_response_deadline(*, priority: int, received_at: dt.datetime) -> dt.datetime:
    """The response deadline of a request received at ``received_at``, with the clinic's closed days."""
    first = received_at.astimezone(clinic_zone()).date()
    closed = clinic_closed_days(first, first + dt.timedelta(days=DEADLINE_SEARCH_DAYS))
    return response_deadline(priority=priority, received_at=received_at, closed=closed)
