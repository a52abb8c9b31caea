"""The slots offered for booking (readers, and `slot_write`: the one home of "that time is taken" when an
appointment's time is written): laid out from working hours in the clinic's time zone, minus
exceptions, closures, the minimum notice and the appointments that hold their time. Times are stored in UTC."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import IntegrityError, OperationalError, transaction
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
# The booking horizons, the one home of "how far ahead can a time be booked": patients are offered slots from
# today for PATIENT_HORIZON_DAYS days online, and nothing later is bookable by them, whatever a form posts; the
# front desk books further ahead (a patient who asks by phone, a course of care) up to STAFF_HORIZON_DAYS. Every
# list of free times and every booking, move and offer reads `booking_horizon_last_day`, so a time offered is a
# time that can be booked.
PATIENT_HORIZON_DAYS = WEEKS_AHEAD * 7
STAFF_HORIZON_DAYS = 26 * 7
NEAREST_ALTERNATIVES = 6
OVERLAP_CONSTRAINT = "cb_appointment_no_overlap"
# PostgreSQL's code for a deadlock, and what it says while checking the exclusion constraint.
_DEADLOCK = "40P01"


def slot_write_refused(exc: Exception) -> bool:
    """Whether a write of an appointment failed because another one holds its time: the overlap constraint's
    refusal, or the deadlock two writers into one time can meet while PostgreSQL checks that constraint (each
    waits for the other's uncommitted row; one is ended, the other goes through). Either way the time is taken."""
    if isinstance(exc, IntegrityError):
        return OVERLAP_CONSTRAINT in str(exc)
    cause = exc.__cause__ if isinstance(exc, OperationalError) else None
    diag = getattr(cause, "diag", None)
    return (
        getattr(cause, "sqlstate", None) == _DEADLOCK
        and diag is not None
        and "exclusion constraint" in (diag.context or "")
        and Appointment._meta.db_table in (diag.context or "")
    )


class SlotWriteRefused(Exception):
    """An appointment's write was refused because another appointment holds its time (`slot_write`)."""


@contextmanager
def slot_write() -> Iterator[None]:
    """A savepoint around one write of an appointment's time: when another appointment holds that time (the
    database decides, `slot_write_refused`) the write is undone and SlotWriteRefused raised, which each caller
    turns into its own words; any other failure passes through unchanged."""
    try:
        with transaction.atomic():
            yield
    except (IntegrityError, OperationalError) as exc:
        if not slot_write_refused(exc):
            raise
        raise SlotWriteRefused from exc


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


def booking_horizon_last_day(*, by_staff: bool = False, now: dt.datetime | None = None) -> dt.date:
    """The last clinic day a slot may be booked on: by a patient online, or (``by_staff``) by the front desk."""
    days = STAFF_HORIZON_DAYS if by_staff else PATIENT_HORIZON_DAYS
    return (now or timezone.now()).astimezone(clinic_zone()).date() + dt.timedelta(days=days - 1)


def slot_within_horizon(starts_at: dt.datetime, *, now: dt.datetime | None = None, by_staff: bool = False) -> bool:
    """True when a slot starting then is inside the booking horizon (the patients', or the front desk's)."""
    return starts_at.astimezone(clinic_zone()).date() <= booking_horizon_last_day(by_staff=by_staff, now=now)


class SlotTaken(Exception):
    """The slot was booked by someone else first (or is no longer offered). Nothing was saved."""

    def __init__(self, alternatives: list[Slot]):
        super().__init__("That time is no longer free.")
        self.alternatives = alternatives


class SlotNotOffered(SlotTaken):
    """The slot is not offered at all (beyond the horizon, outside working hours, too soon, a closed day, an
    inactive service): nobody took it, and ``reason`` says what is wrong, for staff to read. Nothing was saved."""

    def __init__(self, alternatives: list[Slot], reason: str):
        super().__init__(alternatives)
        self.reason = reason


def slot_refusal_reason(
    *, service: Service, starts_at: dt.datetime, by_staff: bool = False, now: dt.datetime | None = None
) -> str:
    """Why a slot that `slot_offered` did not return is not offered, in the front desk's words."""
    now = now or timezone.now()
    if not service.active:
        return f"{service.name} is no longer offered."
    if not slot_within_horizon(starts_at, now=now, by_staff=by_staff):
        last_day = booking_horizon_last_day(by_staff=by_staff, now=now)
        return f"That time is beyond the booking horizon: times can be booked up to {last_day:%A %-d %B %Y}."
    if starts_at < now + MIN_NOTICE:
        return f"That time is too soon: the clinic needs {int(MIN_NOTICE.total_seconds() // 3600)} hours' notice."
    if starts_at.astimezone(clinic_zone()).date() in clinic_closed_days(
        starts_at.astimezone(clinic_zone()).date(), starts_at.astimezone(clinic_zone()).date()
    ):
        return "The clinic is closed that day."
    return "That time is outside the practitioner's working hours, or they are away then."


# Selectors -------------------------------------------------------------------------------------------------


def _services_bookable():
    return Service.objects.filter(active=True, practitioners__active=True)


def services_bookable() -> list[Service]:
    """Active services that at least one active practitioner offers."""
    return list(_services_bookable().distinct().order_by("name"))


def booking_offered() -> bool:
    """Whether any service can be booked (`services_bookable` is not empty), asked of the database alone."""
    return _services_bookable().exists()


def _overlaps(start: dt.datetime, end: dt.datetime, spans: Iterable[tuple[dt.datetime, dt.datetime]]) -> bool:
    return any(start < span_end and end > span_start for span_start, span_end in spans)


def _schedule_slots(
    *,
    service: Service,
    first_day: dt.date,
    days: int,
    now: dt.datetime,
    practitioner_id: int | None = None,
    by_staff: bool = False,
) -> list[Slot]:
    """Slots within working hours, outside exceptions and clinic closures (bank holidays), far enough ahead and
    inside the booking horizon; appointments not considered."""
    zone = clinic_zone()
    days = max(0, min(days, (booking_horizon_last_day(by_staff=by_staff, now=now) - first_day).days + 1))
    if days == 0:
        return []
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
    by_staff: bool = False,
) -> list[Slot]:
    """The free slots for ``service`` from ``first_day`` (today) for ``days`` days, in time order; none beyond
    the booking horizon (the patients', or with ``by_staff`` the front desk's)."""
    now = now or timezone.now()
    first_day = first_day or now.astimezone(clinic_zone()).date()
    slots = _schedule_slots(
        service=service, first_day=first_day, days=days, now=now, practitioner_id=practitioner_id, by_staff=by_staff
    )
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
    *, service: Service, first_day: dt.date, days: int, now: dt.datetime | None = None, by_staff: bool = False
) -> list[DayFree]:
    """Each day from ``first_day`` for ``days`` days (every day listed, in order) with its offered and free slot
    counts, by the same rules as `slots_free`. A bounded number of queries, whatever the number of days."""
    now = now or timezone.now()
    offered = _schedule_slots(service=service, first_day=first_day, days=days, now=now, by_staff=by_staff)
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
    *,
    service: Service,
    practitioner_id: int,
    starts_at: dt.datetime,
    now: dt.datetime | None = None,
    by_staff: bool = False,
) -> Slot | None:
    """The slot if the schedule offers it (working hours, exceptions, notice, closures, the booking horizon),
    whether or not it is taken."""
    now = now or timezone.now()
    day = starts_at.astimezone(clinic_zone()).date()
    for slot in _schedule_slots(
        service=service, first_day=day, days=1, now=now, practitioner_id=practitioner_id, by_staff=by_staff
    ):
        if slot.starts_at == starts_at:
            return slot
    return None


def slots_nearest(
    *,
    service: Service,
    around: dt.datetime,
    limit: int = NEAREST_ALTERNATIVES,
    now: dt.datetime | None = None,
    by_staff: bool = False,
) -> list[Slot]:
    """The free slots closest in time to ``around`` (before or after), in time order."""
    free = slots_free(
        service=service, now=now, days=STAFF_HORIZON_DAYS if by_staff else PATIENT_HORIZON_DAYS, by_staff=by_staff
    )
    closest = sorted(free, key=lambda slot: (abs(slot.starts_at - around), slot.starts_at))[:limit]
    return sorted(closest, key=lambda slot: (slot.starts_at, slot.practitioner_name))
