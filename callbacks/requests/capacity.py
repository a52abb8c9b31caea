"""May a new online callback request be sent now? The one home of the clinic's hours for online requests, its
daily cap of routine requests and a pause staff set (issue 24, item 8; hazard `capacity_turns_away` in
docs/CLINICAL_SAFETY.md).

- Urgent and emergency requests are never refused for capacity, and do not count against the cap.
- The cap is counted in the database (`capacity_place_take`): a conditional UPDATE of the day's counter row, so
  two sends at the same instant never take the same last place (PostgreSQL re-checks ``routine < cap`` on the
  row after the other's commit; SQLite writes one at a time).
- Grace: a journey whose last page was sent while requests were taken keeps its place for
  ``CLINIC_REQUEST_GRACE_MINUTES`` after that page, even if the clinic closed or filled up since. Its request is
  counted, and stored even when that takes the day past the cap: the cap stops new journeys, never a patient
  who was already typing.
"""

import datetime as dt
import enum
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q
from django.db.models.functions import ExtractHour
from django.utils import timezone

from callbacks.models import CallbackRequest, ConsentMethod, IntakeCapacity, Priority, RequestDayCount
from callbacks.models.capacity import SINGLETON_ID
from clinic.hours import clinic_zone, parse_opening_hours

# How far ahead "opens again" is looked for (a pause may be long; each step jumps a whole day or a pause).
OPENS_SEARCH_STEPS = 60


class CapacityFull(Exception):
    """The day's last routine place was taken by another request: nothing was stored."""


class Closed(enum.StrEnum):
    HOURS = "hours"
    PAUSED = "paused"
    FULL = "full"


@dataclass(frozen=True)
class CapacityRules:
    hours: dict[int, tuple[dt.time, dt.time]] | None  # None: at any time
    daily_cap: int | None  # None: no limit
    paused_from: dt.datetime | None = None
    paused_until: dt.datetime | None = None
    pause_reason: str = ""

    def paused_at(self, moment: dt.datetime) -> bool:
        if self.paused_until is None or moment >= self.paused_until:
            return False
        return self.paused_from is None or moment >= self.paused_from


@dataclass(frozen=True)
class Intake:
    """Whether online requests are taken at a moment, and if not why and from when."""

    closed: Closed | None
    opens_at: dt.datetime | None = None  # in the clinic's zone; None: not within the search
    pause_reason: str = ""
    used: int = 0
    daily_cap: int | None = None

    @property
    def accepting(self) -> bool:
        return self.closed is None


def capacity_rules() -> CapacityRules:
    """The staff's settings (the admin's capacity page), or the environment's until they are first saved."""
    row = IntakeCapacity.objects.filter(pk=SINGLETON_ID).first()
    if row is None:
        hours = settings.CLINIC_REQUEST_HOURS
        return CapacityRules(
            hours=parse_opening_hours(hours) if hours.strip() else None,
            daily_cap=settings.CLINIC_REQUEST_DAILY_CAP or None,
        )
    return CapacityRules(
        hours=parse_opening_hours(row.hours) if row.hours.strip() else None,
        daily_cap=row.daily_cap,
        paused_from=row.suspended_from,
        paused_until=row.suspended_until,
        pause_reason=row.suspension_reason if row.suspended_until else "",
    )


def capacity_settings_get() -> IntakeCapacity:
    """The settings row for the admin page, made from the environment's values the first time."""
    hours, cap = settings.CLINIC_REQUEST_HOURS.strip(), settings.CLINIC_REQUEST_DAILY_CAP or None
    row, _ = IntakeCapacity.objects.get_or_create(pk=SINGLETON_ID, defaults={"hours": hours, "daily_cap": cap})
    return row


def _within_hours(rules: CapacityRules, local: dt.datetime) -> bool:
    if rules.hours is None:
        return True
    hours = rules.hours.get(local.weekday())
    return hours is not None and hours[0] <= local.time() < hours[1]


def intake_at(rules: CapacityRules, now: dt.datetime, *, used: int) -> Intake:
    """Whether routine requests are taken at ``now`` with ``used`` places already taken today (the clinic's
    hours are wall-clock times in its zone, so a change of clocks moves them with it)."""
    local = timezone.localtime(now, clinic_zone())
    full = rules.daily_cap is not None and used >= rules.daily_cap
    if rules.paused_at(now):
        closed = Closed.PAUSED
    elif not _within_hours(rules, local):
        closed = Closed.HOURS
    elif full:
        closed = Closed.FULL
    else:
        return Intake(closed=None, used=used, daily_cap=rules.daily_cap)
    return Intake(
        closed=closed,
        opens_at=_opens_at(rules, local, full_today=full),
        pause_reason=rules.pause_reason if closed is Closed.PAUSED else "",
        used=used,
        daily_cap=rules.daily_cap,
    )


def _opens_at(rules: CapacityRules, local: dt.datetime, *, full_today: bool) -> dt.datetime | None:
    """The first moment after ``local`` at which requests are taken again: within the hours, outside any pause,
    and on another day when today's places are all taken (the count starts again at midnight)."""
    zone = local.tzinfo

    def next_midnight(moment: dt.datetime) -> dt.datetime:
        return dt.datetime.combine(moment.date() + dt.timedelta(days=1), dt.time(), tzinfo=zone)

    moment = next_midnight(local) if full_today else local
    for _ in range(OPENS_SEARCH_STEPS):
        if rules.paused_at(moment):
            moment = timezone.localtime(rules.paused_until, zone)
            continue
        if rules.hours is None:
            return moment
        hours = rules.hours.get(moment.weekday())
        if hours is not None:
            opens = dt.datetime.combine(moment.date(), hours[0], tzinfo=zone)
            if moment < opens:
                moment = opens
                continue
            if moment.time() < hours[1]:
                return moment
        moment = next_midnight(moment)
    return None


def places_used(day: dt.date) -> int:
    return RequestDayCount.objects.filter(day=day).values_list("routine", flat=True).first() or 0


def intake_now(*, now: dt.datetime | None = None) -> Intake:
    """Whether routine online requests are taken now: the rules in force and today's count."""
    now = now or timezone.now()
    return intake_at(capacity_rules(), now, used=places_used(timezone.localtime(now, clinic_zone()).date()))


def held_within_grace(*, held_at: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether a journey whose last page was sent at ``held_at``, while requests were taken, still holds its
    place at ``now``."""
    grace = dt.timedelta(minutes=settings.CLINIC_REQUEST_GRACE_MINUTES)
    return held_at is not None and held_at <= now <= held_at + grace


def request_may_send(*, intake: Intake, urgent: bool, held_at: dt.datetime | None, now: dt.datetime) -> bool:
    """May this patient send an online callback request now? Yes when requests are taken, when their answers
    are urgent or an emergency (never refused for capacity), or when their journey still holds its place."""
    return intake.accepting or urgent or held_within_grace(held_at=held_at, now=now)


def capacity_place_take(*, received_at: dt.datetime, priority: int, held: bool) -> None:
    """Count a routine online request against its day's cap, inside the caller's transaction. Raises
    `CapacityFull` (the caller's transaction is to roll back: nothing stored) when no place is left, unless the
    journey ``held`` its place (grace), which is counted whatever the count. Urgent and emergency requests are
    not counted."""
    if priority != Priority.ROUTINE:
        return
    day = timezone.localtime(received_at, clinic_zone()).date()
    cap = capacity_rules().daily_cap
    # A savepoint: a clash creating the day's row (two first requests of a day) leaves the caller's transaction
    # usable, and get_or_create then reads the row the other one made.
    with transaction.atomic():
        RequestDayCount.objects.get_or_create(day=day)
    counter = RequestDayCount.objects.filter(day=day)
    if cap is not None and not held:
        # The row lock taken by UPDATE serialises racing sends; each re-checks "routine < cap" after the other.
        counter = counter.filter(routine__lt=cap)
    if counter.update(routine=F("routine") + 1) == 0:
        raise CapacityFull


# The admin home: today's arrivals against the cap --------------------------------------------------------------


@dataclass(frozen=True)
class HourRow:
    hour: int
    online: int  # every online callback request that arrived in the hour
    routine: int  # of which routine (the ones the cap counts)
    taken: int  # routine requests so far today, to the end of this hour


@dataclass(frozen=True)
class CapacityToday:
    intake: Intake
    counted: int  # places taken today (the counter, grace sends included)
    hours: tuple[HourRow, ...]
    online: int


def capacity_today(*, now: dt.datetime | None = None) -> CapacityToday:
    """Today's online callback requests by hour (clinic time), the routine ones against the cap."""
    now = now or timezone.now()
    zone = clinic_zone()
    local = timezone.localtime(now, zone)
    since = dt.datetime.combine(local.date(), dt.time(), tzinfo=zone)
    rows = (
        CallbackRequest.objects.filter(
            created_at__gte=since,
            created_at__lte=now,
            kind=CallbackRequest.Kind.CALLBACK,
            consent_method=ConsentMethod.ONLINE,
        )
        .annotate(hour=ExtractHour("created_at", tzinfo=zone))
        .values("hour")
        .annotate(online=Count("pk"), routine=Count("pk", filter=Q(priority=Priority.ROUTINE)))
        .order_by("hour")
    )
    by_hour = {row["hour"]: row for row in rows}
    hours, taken = [], 0
    # From the first hour anything arrived (or the current hour) to now: no rows of empty night hours.
    for hour in range(min([*by_hour, local.hour]), local.hour + 1):
        row = by_hour.get(hour, {"online": 0, "routine": 0})
        taken += row["routine"]
        hours.append(HourRow(hour=hour, online=row["online"], routine=row["routine"], taken=taken))
    intake = intake_now(now=now)
    return CapacityToday(
        intake=intake, counted=intake.used, hours=tuple(hours), online=sum(row.online for row in hours)
    )
