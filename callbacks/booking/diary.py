"""The diary: each practitioner's day laid out as appointments, free time and time away, in clinic time.

A reader only: the same few queries for any number of days and practitioners (practitioners, their weekly
hours, exceptions, appointments with their requests, the clinic's closures).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from callbacks.booking.slots import _aware
from callbacks.models import Appointment, AvailabilityException, ClinicClosure, Practitioner
from callbacks.requests.closures import bank_holidays, clinic_closed_days
from clinic.hours import clinic_zone

Span = tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True)
class DiaryItem:
    kind: str  # "appointment", "free" or "away"
    starts_at: dt.datetime
    ends_at: dt.datetime
    appointment: Appointment | None = None
    note: str = ""

    @property
    def local_start(self) -> dt.datetime:
        return self.starts_at.astimezone(clinic_zone())

    @property
    def local_end(self) -> dt.datetime:
        return self.ends_at.astimezone(clinic_zone())

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


@dataclass
class DiaryColumn:
    practitioner: Practitioner
    items: list[DiaryItem] = field(default_factory=list)

    @property
    def appointments(self) -> list[DiaryItem]:
        return [item for item in self.items if item.kind == "appointment"]


@dataclass
class DiaryDay:
    day: dt.date
    columns: list[DiaryColumn]
    # Why the clinic is shut all day (a bank holiday's name, "Clinic closed"), or "" when it is open.
    closed: str = ""


def _subtract(spans: list[Span], taken: list[Span]) -> list[Span]:
    """What is left of ``spans`` once every ``taken`` span is cut out of it."""
    left = list(spans)
    for cut_start, cut_end in taken:
        next_left = []
        for start, end in left:
            if cut_end <= start or cut_start >= end:
                next_left.append((start, end))
                continue
            if start < cut_start:
                next_left.append((start, cut_start))
            if cut_end < end:
                next_left.append((cut_end, end))
        left = next_left
    return left


def diary_days(*, first_day: dt.date, days: int, practitioner_id: int | None = None) -> list[DiaryDay]:
    """``days`` days from ``first_day`` (clinic dates): per practitioner, the requested and confirmed
    appointments, the free time left in their working hours, and the time they are away; in time order.
    On a day the clinic is closed (a bank holiday, a closure staff entered) nobody has free time."""
    zone = clinic_zone()
    range_start = dt.datetime.combine(first_day, dt.time(), tzinfo=zone)
    range_end = dt.datetime.combine(first_day + dt.timedelta(days=days), dt.time(), tzinfo=zone)
    practitioners = Practitioner.objects.prefetch_related("working_hours").order_by("name", "pk")
    practitioners = (
        practitioners.filter(pk=practitioner_id) if practitioner_id is not None else practitioners.filter(active=True)
    )
    practitioners = list(practitioners)
    ids = [practitioner.pk for practitioner in practitioners]
    away: dict[int, list[AvailabilityException]] = {}
    for exception in AvailabilityException.objects.filter(
        practitioner_id__in=ids, start__lt=range_end, end__gt=range_start
    ):
        away.setdefault(exception.practitioner_id, []).append(exception)
    booked: dict[int, list[Appointment]] = {}
    for appointment in (
        Appointment.objects.holding()
        .filter(practitioner_id__in=ids, starts_at__lt=range_end, ends_at__gt=range_start)
        .select_related("service", "request", "practitioner", "attendance_marked_by")
        .order_by("starts_at")
    ):
        booked.setdefault(appointment.practitioner_id, []).append(appointment)

    last_day = first_day + dt.timedelta(days=days - 1)
    closed = clinic_closed_days(first_day, last_day)
    holiday_names = dict(bank_holidays(first_day, last_day))
    for closure in ClinicClosure.objects.filter(first_day__lte=last_day, last_day__gte=first_day):
        day = max(closure.first_day, first_day)
        while day <= min(closure.last_day, last_day):
            holiday_names.setdefault(day, closure.reason)
            day += dt.timedelta(days=1)
    diary = []
    for day in (first_day + dt.timedelta(days=offset) for offset in range(days)):
        shut = day in closed
        columns = [
            _column(practitioner, day, away.get(practitioner.pk, []), booked.get(practitioner.pk, []), closed=shut)
            for practitioner in practitioners
        ]
        reason = (holiday_names.get(day) or "Clinic closed") if shut else ""
        diary.append(DiaryDay(day=day, columns=columns, closed=reason))
    return diary


ORDER = {"appointment": 0, "away": 1, "free": 2}


def _column(
    practitioner: Practitioner,
    day: dt.date,
    away: list[AvailabilityException],
    booked: list[Appointment],
    *,
    closed: bool = False,
) -> DiaryColumn:
    zone = clinic_zone()
    day_start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    day_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    hours = [
        (_aware(day, block.start, zone), _aware(day, block.end, zone))
        for block in practitioner.working_hours.all()
        if block.weekday == day.weekday()
    ]
    items, away_spans = [], []
    for exception in away:
        if exception.start < day_end and exception.end > day_start:
            span = (max(exception.start, day_start), min(exception.end, day_end))
            away_spans.append(span)
            # Shown only where it covers working time: a whole day's leave reads as its working hours.
            for part in _subtract([span], _subtract([span], hours)):
                items.append(DiaryItem("away", *part, note=exception.get_reason_display()))
    appointments = [a for a in booked if a.starts_at < day_end and a.ends_at > day_start]
    items += [DiaryItem("appointment", a.starts_at, a.ends_at, appointment=a) for a in appointments]
    free = [] if closed else _subtract(hours, away_spans + [(a.starts_at, a.ends_at) for a in appointments])
    items += [DiaryItem("free", start, end) for start, end in free if end > start]
    items.sort(key=lambda item: (item.starts_at, ORDER[item.kind]))
    return DiaryColumn(practitioner=practitioner, items=items)
