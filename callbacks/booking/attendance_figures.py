"""The attendance figures of a period, for the admin home and the outcome report.

- Did-not-attend rate, by service and by weekday (clinic time): of the visits marked attended or did not attend,
  the share not attended (cancelled late is counted beside it, not in the rate). Visits starting in the period.
- Days from request to first contact (`CallbackRequest.first_contact_at`: the first call that reached the
  patient, or "contacted" with a reason) and to first appointment (the earliest requested or confirmed
  appointment of the request): the median and the 92nd percentile, over the requests received in the period
  that got there (the count says how many).
- Utilisation per practitioner: the minutes of requested or confirmed appointments starting in the period, and of
  those marked attended, against the minutes the practitioner was bookable (weekly hours, less the clinic's
  closed days and their time away).

Counted from the per-day rollup (`callbacks.booking.attendance_days`): one row per clinic day of the period,
read in one query and merged here; a day some change has made stale since it was counted (today's, usually, and a
handful more) is counted again first, all of them in three queries, so the figures are always the tables' as
they stand. The waits are counted to the nearest ten minutes (`attendance_days.BUCKET_SECONDS`; whole hours
exact), which can move a figure shown in tenths of a day only when the exact one lies within five minutes of
where its tenth changes; the median and percentile are PostgreSQL's `percentile_cont` interpolation over them
(`histogram_percentile`), the same on every database. Utilisation's bookable minutes are counted from the weekly
hours, closures and time away (a few small queries).
Every rate, median and percentile about fewer than five (visits or requests) is withheld like the outcome
report's (`callbacks.rules.outcomes.outcome_group_too_small`).
"""

from __future__ import annotations

import datetime as dt
import math
import operator
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q

from callbacks.booking.attendance_days import BUCKET_SECONDS, SECONDS_PER_DAY, attendance_days_figures
from callbacks.booking.diary import _subtract
from callbacks.booking.slots import _aware
from callbacks.models import AvailabilityException, Practitioner, Service, WorkingHours
from callbacks.requests.closures import clinic_closed_days
from callbacks.rules.booking import AppointmentAttendance
from callbacks.rules.outcomes import OUTCOME_SMALL_GROUP_TEXT, outcome_group_too_small
from clinic.hours import clinic_zone

Attendance = AppointmentAttendance
PERCENTILES = (0.5, 0.92)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class RateRow:
    label: str
    attended: int = 0
    did_not_attend: int = 0
    cancelled_late: int = 0

    @property
    def marked(self) -> int:
        return self.attended + self.did_not_attend

    @property
    def rate(self) -> float | None:
        return self.did_not_attend / self.marked if self.marked else None

    @property
    def rate_shown(self) -> str:
        if outcome_group_too_small(self.marked):
            return OUTCOME_SMALL_GROUP_TEXT
        return f"{self.rate * 100:.1f}%"


@dataclass(frozen=True)
class DaysFigure:
    label: str
    counted: int
    median: float | None
    p92: float | None

    @property
    def withheld(self) -> bool:
        return outcome_group_too_small(self.counted)

    @property
    def median_shown(self) -> str:
        return OUTCOME_SMALL_GROUP_TEXT if self.withheld else _days(self.median)

    @property
    def p92_shown(self) -> str:
        return OUTCOME_SMALL_GROUP_TEXT if self.withheld else _days(self.p92)


@dataclass(frozen=True)
class UtilisationRow:
    practitioner: str
    available_minutes: int
    booked_minutes: int
    attended_minutes: int

    @property
    def booked_shown(self) -> str:
        return _share(self.booked_minutes, self.available_minutes)

    @property
    def attended_shown(self) -> str:
        return _share(self.attended_minutes, self.available_minutes)

    @property
    def hours_shown(self) -> str:
        return f"{self.booked_minutes / 60:.1f} of {self.available_minutes / 60:.1f} h"


@dataclass(frozen=True)
class AttendanceFigures:
    first_day: dt.date
    last_day: dt.date
    by_service: tuple[RateRow, ...]
    by_weekday: tuple[RateRow, ...]
    overall: RateRow
    waits: tuple[DaysFigure, ...]
    utilisation: tuple[UtilisationRow, ...]

    @property
    def rate_tables(self) -> tuple[tuple[str, str, tuple[RateRow, ...]], ...]:
        """(what the rows are, a key for the page's ids, the rows): the did-not-attend breakdowns in page order."""
        return (("service", "service", self.by_service), ("weekday", "weekday", self.by_weekday))


def _days(value: float | None) -> str:
    # "or 0.0": a wait that rounds to nothing reads 0.0, never -0.0.
    return "none" if value is None else f"{round(value, 1) or 0.0:.1f} days"


def _share(part: int, whole: int) -> str:
    return f"{part / whole * 100:.0f}%" if whole else "not bookable"


def attendance_figures(*, first_day: dt.date, last_day: dt.date) -> AttendanceFigures:
    """The figures for the clinic days ``first_day`` to ``last_day``, both included, as the tables stand now."""
    zone = clinic_zone()
    start = dt.datetime.combine(first_day, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    days = attendance_days_figures(first_day=first_day, last_day=last_day)
    by_service, by_weekday, overall = _did_not_attend(days)
    return AttendanceFigures(
        first_day=first_day,
        last_day=last_day,
        by_service=by_service,
        by_weekday=by_weekday,
        overall=overall,
        waits=(
            _days_figure("Request to first contact", days, "contact"),
            _days_figure("Request to first appointment", days, "appointment"),
        ),
        utilisation=_utilisation(first_day, last_day, start, end, days),
    )


# The pages' name from when the figures were kept in the shared cache for ten minutes. They are current now (a mark
# shows at the next view) and cheap to read, so nothing is cached; the name stays for its callers.
attendance_figures_cached = attendance_figures


def _did_not_attend(days: dict[dt.date, dict]) -> tuple[tuple[RateRow, ...], tuple[RateRow, ...], RateRow]:
    services: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    weekdays: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    total: dict[str, int] = defaultdict(int)
    for day, figures in days.items():
        for service_id, attendance, count in figures["visits"]:
            services[service_id][attendance] += count
            weekdays[day.isoweekday()][attendance] += count
            total[attendance] += count
    names = dict(Service.objects.filter(pk__in=services).values_list("pk", "name"))
    by_service = tuple(
        sorted((_rate_row(names.get(pk, "?"), counts) for pk, counts in services.items()), key=lambda r: r.label)
    )
    by_weekday = tuple(_rate_row(WEEKDAYS[day - 1], weekdays[day]) for day in range(1, 8) if day in weekdays)
    return by_service, by_weekday, _rate_row("All services", total)


def _rate_row(label: str, counts: dict[str, int]) -> RateRow:
    return RateRow(
        label=label,
        attended=counts.get(Attendance.ATTENDED, 0),
        did_not_attend=counts.get(Attendance.DID_NOT_ATTEND, 0),
        cancelled_late=counts.get(Attendance.CANCELLED_LATE, 0),
    )


def _days_figure(label: str, days: dict[dt.date, dict], key: str) -> DaysFigure:
    """The waits' count, median and 92nd percentile, from the days' histograms (`attendance_days.histogram_runs`),
    added run by run into one list of counts (a slice at a time: a few thousand additions per day stay in C)."""
    runs = [run for figures in days.values() for run in figures[key]]
    histogram: list[tuple[float, int]] = []
    if runs:
        low = min(run[0] for run in runs)
        counts = [0] * (max(run[0] + len(run) - 1 for run in runs) - low)
        for run in runs:
            start = run[0] - low
            end = start + len(run) - 1
            counts[start:end] = map(operator.add, counts[start:end], run[1:])
        histogram = [((low + index) * BUCKET_SECONDS, n) for index, n in enumerate(counts) if n]
    median, p92 = (histogram_percentile(histogram, fraction) for fraction in PERCENTILES)
    to_days = lambda seconds: None if seconds is None else seconds / SECONDS_PER_DAY  # noqa: E731
    return DaysFigure(label=label, counted=sum(n for _, n in histogram), median=to_days(median), p92=to_days(p92))


def histogram_percentile(histogram: list[tuple[float, int]], fraction: float) -> float | None:
    """`percentile_cont` of the values a sorted (value, count) histogram stands for, without expanding it."""
    total = sum(count for _, count in histogram)
    if not total:
        return None
    position = fraction * (total - 1)
    low, high = math.floor(position), math.ceil(position)
    values, seen = {}, 0
    for value, count in histogram:
        for index in (low, high):
            if index not in values and seen <= index < seen + count:
                values[index] = value
        seen += count
        if high in values:
            break
    return values[low] + (values[high] - values[low]) * (position - low)


def _utilisation(first_day: dt.date, last_day: dt.date, start: dt.datetime, end: dt.datetime, days: dict):
    seconds: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for figures in days.values():
        numbers = figures["booked"]
        for index in range(0, len(numbers), 3):
            pk, booked, attended = numbers[index : index + 3]
            seconds[pk][0] += booked
            seconds[pk][1] += attended
    booked = {pk: (round(b / 60), round(a / 60)) for pk, (b, a) in seconds.items()}
    practitioners = list(Practitioner.objects.filter(Q(pk__in=list(booked)) | Q(active=True)).order_by("name", "pk"))
    available = _available_minutes(practitioners, first_day, last_day, start, end)
    return tuple(
        UtilisationRow(
            practitioner=practitioner.name,
            available_minutes=available.get(practitioner.pk, 0),
            booked_minutes=booked.get(practitioner.pk, (0, 0))[0],
            attended_minutes=booked.get(practitioner.pk, (0, 0))[1],
        )
        for practitioner in practitioners
    )


def _available_minutes(practitioners, first_day, last_day, start, end) -> dict[int, int]:
    """Bookable minutes per practitioner: weekly hours on the days the clinic is open, less their time away.

    Counted per weekday (how many open Mondays, ...) times each practitioner's hours that weekday, then corrected
    on the few days someone is away: the same whatever the period's length."""
    zone = clinic_zone()
    ids = [practitioner.pk for practitioner in practitioners]
    hours: dict[int, list[WorkingHours]] = defaultdict(list)
    for block in WorkingHours.objects.filter(practitioner_id__in=ids):
        hours[block.practitioner_id].append(block)
    away: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    for exception in AvailabilityException.objects.filter(practitioner_id__in=ids, start__lt=end, end__gt=start):
        away[exception.practitioner_id].append((exception.start, exception.end))
    closed = clinic_closed_days(first_day, last_day)
    open_days = [
        first_day + dt.timedelta(days=offset)
        for offset in range((last_day - first_day).days + 1)
        if first_day + dt.timedelta(days=offset) not in closed
    ]
    open_weekdays = [0] * 7
    for day in open_days:
        open_weekdays[day.weekday()] += 1

    def spans(pk: int, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        return [
            (_aware(day, block.start, zone), _aware(day, block.end, zone))
            for block in hours[pk]
            if block.weekday == day.weekday()
        ]

    def minutes(parts) -> int:
        return sum(int((part_end - part_start).total_seconds() // 60) for part_start, part_end in parts)

    totals: dict[int, int] = {}
    for pk in ids:
        weekly = [0] * 7
        for block in hours[pk]:
            weekly[block.weekday] += (block.end.hour * 60 + block.end.minute) - (
                block.start.hour * 60 + block.start.minute
            )
        totals[pk] = sum(weekly[weekday] * open_weekdays[weekday] for weekday in range(7))
        if not away[pk]:
            continue
        away_days = {
            day
            for day in open_days
            for away_start, away_end in away[pk]
            if _day_touches(day, away_start, away_end, zone)
        }
        for day in away_days:
            working = spans(pk, day)
            totals[pk] += minutes(_subtract(working, away[pk])) - minutes(working)
    return totals


def _day_touches(day: dt.date, span_start: dt.datetime, span_end: dt.datetime, zone) -> bool:
    day_start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    return span_start < day_start + dt.timedelta(days=1) and span_end > day_start
