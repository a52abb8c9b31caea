"""The slots offered for booking (readers only): laid out from working hours in the clinic's time zone, minus
exceptions, closures, the minimum notice and the appointments that hold their time. Times are stored in UTC."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone

from callbacks.models import Appointment, AvailabilityException, Service
from callbacks.requests.closures import clinic_closed_days
from clinic.hours import clinic_zone

logger = logging.getLogger(__name__)

# Slots start every SLOT_STEP from the start of a block of working hours.
SLOT_STEP = dt.timedelta(minutes=30)
# The clinic needs some notice to prepare; a slot starting sooner is not offered.
MIN_NOTICE = dt.timedelta(hours=2)
WEEKS_AHEAD = 4
# The booking horizon: patients are offered slots from today for this many days, and nothing later is bookable
# by them, whatever a form posts (the front desk books from its own diary).
PATIENT_HORIZON_DAYS = WEEKS_AHEAD * 7
NEAREST_ALTERNATIVES = 6
OVERLAP_CONSTRAINT = "cb_appointment_no_overlap"
SLOT_KEY = re.compile(r"(?P<practitioner>[0-9]{1,9})-(?P<seconds>[0-9]{1,11})")


@dataclass(frozen=True)
class Slot:
    practitioner_id: int
    practitioner_name: str
    starts_at: dt.datetime  # aware, UTC
    ends_at: dt.datetime

    @property
    def key(self) -> str:
        """What a form posts to name this slot: practitioner and start, nothing personal."""
        return f"{self.practitioner_id}-{int(self.starts_at.timestamp())}"

    @property
    def local_start(self) -> dt.datetime:
        return self.starts_at.astimezone(clinic_zone())

    @property
    def local_end(self) -> dt.datetime:
        return self.ends_at.astimezone(clinic_zone())


def slot_key_parse(key: str) -> tuple[int, dt.datetime] | None:
    """(practitioner id, UTC start) from a slot key, or None when it is not one.

    ASCII digits only, at most 9 for the id (a database integer) and 11 for the seconds (the year 5138): longer
    numbers overflow the database or Python's dates, and no real slot needs them.
    """
    match = SLOT_KEY.fullmatch(key or "")
    if match is None:
        return None
    return int(match["practitioner"]), dt.datetime.fromtimestamp(int(match["seconds"]), tz=dt.UTC)


def slot_within_horizon(
    starts_at: dt.datetime, *, now: dt.datetime | None = None, days: int = PATIENT_HORIZON_DAYS
) -> bool:
    """True when a patient could have been offered a slot starting then: before the booking horizon's end (``days``
    from today: the patients' own, or a course of care's, `callbacks.booking.courses`)."""
    now = now or timezone.now()
    zone = clinic_zone()
    last_day = now.astimezone(zone).date() + dt.timedelta(days=days - 1)
    return starts_at.astimezone(zone).date() <= last_day


class SlotTaken(Exception):
    """The slot was booked by someone else first (or is no longer offered). Nothing was saved."""

    def __init__(self, alternatives: list[Slot]):
        super().__init__("That time is no longer free.")
        self.alternatives = alternatives


# Selectors -------------------------------------------------------------------------------------------------


def services_bookable() -> list[Service]:
    """Active services that at least one active practitioner offers."""
    return list(Service.objects.filter(active=True, practitioners__active=True).distinct().order_by("name"))


def _overlaps(start: dt.datetime, end: dt.datetime, spans: Iterable[tuple[dt.datetime, dt.datetime]]) -> bool:
    return any(start < span_end and end > span_start for span_start, span_end in spans)


def _schedule_slots(
    *, service: Service, first_day: dt.date, days: int, now: dt.datetime, practitioner_id: int | None = None
) -> list[Slot]:
    """Slots within working hours, outside exceptions and clinic closures (bank holidays), far enough ahead;
    appointments not considered."""
    zone = clinic_zone()
    duration = dt.timedelta(minutes=service.duration_minutes)
    practitioners = service.practitioners.filter(active=True).prefetch_related("working_hours")
    if practitioner_id is not None:
        practitioners = practitioners.filter(pk=practitioner_id)
    range_start = dt.datetime.combine(first_day, dt.time(), tzinfo=zone)
    range_end = dt.datetime.combine(first_day + dt.timedelta(days=days), dt.time(), tzinfo=zone)
    blocked: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {}
    for exception in AvailabilityException.objects.filter(
        practitioner__in=practitioners, start__lt=range_end, end__gt=range_start
    ):
        blocked.setdefault(exception.practitioner_id, []).append((exception.start, exception.end))
    earliest = now + MIN_NOTICE
    closed = clinic_closed_days(first_day, first_day + dt.timedelta(days=days - 1))
    slots = []
    for practitioner in practitioners:
        for offset in range(days):
            day = first_day + dt.timedelta(days=offset)
            if day in closed:
                continue
            for hours in practitioner.working_hours.all():
                if hours.weekday != day.weekday():
                    continue
                # Bounds as local wall-clock times, then walked in real (UTC) time: on a daylight-saving day
                # every real hour of the block is offered once, none twice, none that does not exist.
                block_start = _aware(day, hours.start, zone)
                block_end = _aware(day, hours.end, zone)
                start = block_start.astimezone(dt.UTC)
                while start + duration <= block_end:
                    end = start + duration
                    if start >= earliest and not _overlaps(start, end, blocked.get(practitioner.pk, ())):
                        slots.append(Slot(practitioner.pk, practitioner.name, start, end))
                    start += SLOT_STEP
    slots.sort(key=lambda slot: (slot.starts_at, slot.practitioner_name, slot.practitioner_id))
    return slots


def _aware(day: dt.date, time: dt.time, zone) -> dt.datetime:
    """A local wall-clock time as an aware datetime; a time skipped by a clock change moves to the change."""
    local = dt.datetime.combine(day, time, tzinfo=zone)
    round_trip = local.astimezone(dt.UTC).astimezone(zone)
    if round_trip.replace(tzinfo=None) != local.replace(tzinfo=None):
        # Inside the spring-forward gap: the first real instant after it.
        return local.replace(fold=1).astimezone(dt.UTC).astimezone(zone)
    return local


def slots_free(
    *,
    service: Service,
    now: dt.datetime | None = None,
    first_day: dt.date | None = None,
    days: int = PATIENT_HORIZON_DAYS,
    practitioner_id: int | None = None,
) -> list[Slot]:
    """The free slots for ``service`` from ``first_day`` (today) for ``days`` days, in time order."""
    now = now or timezone.now()
    first_day = first_day or now.astimezone(clinic_zone()).date()
    slots = _schedule_slots(service=service, first_day=first_day, days=days, now=now, practitioner_id=practitioner_id)
    return _not_taken(slots)


def _not_taken(slots: list[Slot]) -> list[Slot]:
    """The slots (in time order) whose time no holding appointment overlaps: one query."""
    if not slots:
        return []
    taken: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {}
    for practitioner_id_, start, end in (
        Appointment.objects.holding()
        .filter(
            practitioner_id__in={slot.practitioner_id for slot in slots},
            starts_at__lt=slots[-1].ends_at,
            ends_at__gt=slots[0].starts_at,
        )
        .values_list("practitioner_id", "starts_at", "ends_at")
    ):
        taken.setdefault(practitioner_id_, []).append((start, end))
    return [slot for slot in slots if not _overlaps(slot.starts_at, slot.ends_at, taken.get(slot.practitioner_id, ()))]


@dataclass(frozen=True)
class DayFree:
    """One day of the booking calendar: how many slots the schedule offers and how many of them are free."""

    day: dt.date
    offered: int
    free: int

    @property
    def full(self) -> bool:
        """Times were offered that day and all are taken (as against a day with no times at all)."""
        return self.offered > 0 and self.free == 0


def slots_free_per_day(
    *, service: Service, first_day: dt.date, days: int, now: dt.datetime | None = None
) -> list[DayFree]:
    """Each day from ``first_day`` for ``days`` days (every day listed, in order) with its offered and free slot
    counts, by the same rules as `slots_free`. A bounded number of queries, whatever the number of days."""
    now = now or timezone.now()
    offered = _schedule_slots(service=service, first_day=first_day, days=days, now=now)
    offered_per_day = Counter(slot.local_start.date() for slot in offered)
    free_per_day = Counter(slot.local_start.date() for slot in _not_taken(offered))
    return [
        DayFree(day=day, offered=offered_per_day[day], free=free_per_day[day])
        for day in (first_day + dt.timedelta(days=n) for n in range(days))
    ]


def slots_by_day(slots: Iterable[Slot]) -> list[tuple[dt.date, list[Slot]]]:
    days: dict[dt.date, list[Slot]] = {}
    for slot in slots:
        days.setdefault(slot.local_start.date(), []).append(slot)
    return sorted(days.items())


def slot_offered(
    *, service: Service, practitioner_id: int, starts_at: dt.datetime, now: dt.datetime | None = None
) -> Slot | None:
    """The slot if the schedule offers it (working hours, exceptions, notice), whether or not it is taken."""
    now = now or timezone.now()
    day = starts_at.astimezone(clinic_zone()).date()
    for slot in _schedule_slots(service=service, first_day=day, days=1, now=now, practitioner_id=practitioner_id):
        if slot.starts_at == starts_at:
            return slot
    return None


def slots_nearest(
    *, service: Service, around: dt.datetime, limit: int = NEAREST_ALTERNATIVES, now: dt.datetime | None = None
) -> list[Slot]:
    """The free slots closest in time to ``around`` (before or after), in time order."""
    free = slots_free(service=service, now=now)
    closest = sorted(free, key=lambda slot: (abs(slot.starts_at - around), slot.starts_at))[:limit]
    return sorted(closest, key=lambda slot: (slot.starts_at, slot.practitioner_name))
