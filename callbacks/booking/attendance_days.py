"""The attendance figures' rollup (`AttendanceDay`): what each clinic day counts, kept current by the writes that
change it and counted again lazily, so that a period's figures are read from one row per day.

A day (the clinic's time zone) counts:

- ``visits``: the appointments starting that day marked attended, did not attend or cancelled late, per service
  and mark: ``[service_id, attendance, n]``;
- ``booked``: the requested or confirmed appointments starting that day, per practitioner, in seconds booked
  and, of those, marked attended: ``practitioner_id, booked, attended`` one after the other, in one list;
- ``contact`` and ``appointment``: the requests received that day that got a first contact, or hold an
  appointment, as a histogram of the wait in runs of consecutive buckets, ``[first bucket, n, n, ...]``
  (`histogram_runs`), a bucket being the wait to the nearest `BUCKET_SECONDS` (ten minutes; whole hours exact).
  A figure is shown in tenths of a day (2.4 hours), so it can differ from the exact one only when that lies
  within five minutes of where its tenth changes.

Freshness: every save or delete of an appointment that changes its day, times, status, mark, service,
practitioner or request, and of a request's ``first_contact_at`` (or ``created_at``), and every deleted request,
records a change to the days concerned in the writer's own transaction (`attendance_days_mark_stale`, called by
the model signals connected in `attendance_days_receivers_connect`, so no writer can forget it; the day before a
move comes from the database, not from the instance). A change is a row inserted (`AttendanceDayChange`), never
an update: writers take no lock on the days, so none waits for another or deadlocks with it. A counter locks the
days it counts (`_count_and_store`), reads their changes, counts, stores, and deletes the changes it read; one
committed meanwhile stays, and the day is counted again. Writes that bypass the models (raw SQL,
``QuerySet.update``) must call `attendance_days_mark_stale` themselves, or run ``manage.py attendance_days_count
--recount``, as must an upgrade whose old processes kept writing after the release step counted the days.

Counting: `attendance_days_count` (the beat job) counts the stale or missing days of the last
`attendance_days_window` days, most recent first, a bounded number per run; a page counts any day it reads that
is still stale (usually today's and a handful more), in three queries for all of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, FloatField, Q, Sum
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncDate
from django.db.models.signals import post_save, pre_delete, pre_save
from django.utils import timezone

from callbacks.models import Appointment, AttendanceDay, AttendanceDayChange, CallbackRequest
from callbacks.rules.booking import APPOINTMENT_HOLDING_STATUSES, AppointmentAttendance
from clinic.hours import clinic_zone

Attendance = AppointmentAttendance
COUNTED_MARKS = (Attendance.ATTENDED, Attendance.DID_NOT_ATTEND, Attendance.CANCELLED_LATE)
BUCKET_SECONDS = 600
SECONDS_PER_DAY = 86400
# A save naming only other fields (reminder sent, calendar sequence, ...) changes nothing a day counts.
APPOINTMENT_COUNTED_FIELDS = frozenset(
    {"starts_at", "ends_at", "status", "attendance", "service", "service_id", "practitioner", "practitioner_id"}
    | {"request", "request_id"}
)
REQUEST_COUNTED_FIELDS = frozenset({"created_at", "first_contact_at"})


def clinic_day(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment, clinic_zone()).date()


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=clinic_zone())


# Marking


def attendance_days_mark_stale(*, days: Iterable[dt.date | None]) -> None:
    """Record a change to each of ``days``, in the caller's transaction: the days are counted again before they
    are next read. An insert only: no writer ever waits for another's mark (two bookings, a course and an online
    booking, an erasure's many rows), whatever the order their transactions touch the days in."""
    days = sorted({day for day in days if day is not None})
    if days:
        AttendanceDayChange.objects.bulk_create([AttendanceDayChange(day=day) for day in days])


def _appointment_days(pk: int | None) -> set[dt.date]:
    """The days an appointment counts in, as the database has it now: where it starts and its request's day."""
    row = Appointment.objects.filter(pk=pk).values_list("starts_at", "request__created_at").first() if pk else None
    return {clinic_day(moment) for moment in row if moment is not None} if row else set()


def _counted_change(update_fields, counted: frozenset[str]) -> bool:
    return update_fields is None or not counted.isdisjoint(update_fields)


def _appointment_before_save(sender, instance, update_fields=None, **kwargs):
    if _counted_change(update_fields, APPOINTMENT_COUNTED_FIELDS):
        instance._attendance_days_before = set() if instance._state.adding else _appointment_days(instance.pk)


def _appointment_saved(sender, instance, update_fields=None, **kwargs):
    if _counted_change(update_fields, APPOINTMENT_COUNTED_FIELDS):
        before = instance.__dict__.pop("_attendance_days_before", set())
        attendance_days_mark_stale(days=before | _appointment_days(instance.pk))


def _appointment_deleting(sender, instance, **kwargs):
    attendance_days_mark_stale(days=_appointment_days(instance.pk))


def _request_before_save(sender, instance, update_fields=None, **kwargs):
    if _counted_change(update_fields, REQUEST_COUNTED_FIELDS) and not instance._state.adding:
        created = CallbackRequest.objects.filter(pk=instance.pk).values_list("created_at", flat=True).first()
        instance._attendance_days_before = {clinic_day(created)} if created else set()


def _request_saved(sender, instance, created, update_fields=None, **kwargs):
    # A new request has no appointment yet (its appointment's save marks the day); it counts at once only when
    # it arrives already contacted.
    if not _counted_change(update_fields, REQUEST_COUNTED_FIELDS) or (created and instance.first_contact_at is None):
        return
    before = instance.__dict__.pop("_attendance_days_before", set())
    attendance_days_mark_stale(days=before | {clinic_day(instance.created_at)})


def _request_deleting(sender, instance, **kwargs):
    # The day it was received counts its waits; its appointment, deleted with it, marks its own day.
    attendance_days_mark_stale(days=[clinic_day(instance.created_at)])


def attendance_days_receivers_connect() -> None:
    """Connect the marks to every save and delete of appointments and requests (from the app's ready())."""
    for signal, model, receiver in (
        (pre_save, Appointment, _appointment_before_save),
        (post_save, Appointment, _appointment_saved),
        (pre_delete, Appointment, _appointment_deleting),
        (pre_save, CallbackRequest, _request_before_save),
        (post_save, CallbackRequest, _request_saved),
        (pre_delete, CallbackRequest, _request_deleting),
    ):
        signal.connect(receiver, sender=model, dispatch_uid=f"attendance-days-{receiver.__name__}")


# Counting


def _runs(days: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive days as (first, last) runs: the queries read each run as one range of an index."""
    runs: list[list[dt.date]] = []
    for day in sorted(set(days)):
        if runs and day - runs[-1][1] == dt.timedelta(days=1):
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return [(first, last) for first, last in runs]


def _within(field: str, runs: list[tuple[dt.date, dt.date]]) -> Q:
    spans = Q()
    for first, last in runs:
        spans |= Q(**{f"{field}__gte": day_start(first), f"{field}__lt": day_start(last + dt.timedelta(days=1))})
    return spans


def _seconds_between(later: str, earlier: str) -> str:
    if connection.vendor == "postgresql":
        # date_part is double precision; EXTRACT is numeric since PostgreSQL 14, slower.
        return f"date_part('epoch', {later} - {earlier})"
    return f"(julianday({later}) - julianday({earlier})) * {SECONDS_PER_DAY}"


def _bucket(later: str, earlier: str) -> RawSQL:
    """The wait to the nearest `BUCKET_SECONDS` (halves up), as a whole number of buckets."""
    seconds = _seconds_between(later, earlier)
    # Constant column names and numbers only: nothing from outside reaches this SQL.
    return RawSQL(f"FLOOR(({seconds} + {BUCKET_SECONDS // 2}) / {BUCKET_SECONDS})", [], output_field=FloatField())  # noqa: S611


def _column(model, field: str) -> str:
    quote = connection.ops.quote_name
    return f"{quote(model._meta.db_table)}.{quote(field)}"


def attendance_days_counted(days: Iterable[dt.date]) -> dict[dt.date, dict]:
    """Each of ``days`` counted now from the tables (nothing stored): three queries whatever the number of days."""
    runs = _runs(days)
    figures = {day: {"visits": {}, "booked": {}, "contact": {}, "appointment": {}} for day in sorted(set(days))}
    if not runs:
        return {}
    zone = clinic_zone()
    seconds = RawSQL(_seconds_between(_column(Appointment, "ends_at"), _column(Appointment, "starts_at")), [])  # noqa: S611
    visits = (
        Appointment.objects.filter(_within("starts_at", runs))
        .annotate(day=TruncDate("starts_at", tzinfo=zone))
        .values("day", "service_id", "practitioner_id", "status", "attendance")
        .order_by()
        .annotate(n=Count("pk"), seconds=Sum(seconds, output_field=FloatField()))
        .values_list("day", "service_id", "practitioner_id", "status", "attendance", "n", "seconds")
    )
    for day, service_id, practitioner_id, status, attendance, n, total in visits:
        if attendance in COUNTED_MARKS:
            visits_of_day = figures[day]["visits"]
            visits_of_day[service_id, attendance] = visits_of_day.get((service_id, attendance), 0) + n
        if status in APPOINTMENT_HOLDING_STATUSES:
            booked, attended = figures[day]["booked"].get(practitioner_id, (0.0, 0.0))
            figures[day]["booked"][practitioner_id] = (
                booked + total,
                attended + (total if attendance == Attendance.ATTENDED else 0.0),
            )
    created = _column(CallbackRequest, "created_at")
    contacts = (
        CallbackRequest.objects.filter(_within("created_at", runs), first_contact_at__isnull=False)
        .annotate(
            day=TruncDate("created_at", tzinfo=zone),
            bucket=_bucket(_column(CallbackRequest, "first_contact_at"), created),
        )
        .values("day", "bucket")
        .order_by()
        .annotate(n=Count("pk"))
        .values_list("day", "bucket", "n")
    )
    # One appointment per request (a one-to-one): its wait is the request's first appointment's. None starts before
    # its request arrived (a booking is for a time to come), which also lets the database read the appointments
    # from the first day's start on (`cb_appointment_status`) rather than all of them: few, for recent days.
    appointments = (
        Appointment.objects.filter(
            _within("request__created_at", runs),
            Q(starts_at__gte=F("request__created_at")),
            status__in=APPOINTMENT_HOLDING_STATUSES,
            starts_at__gte=day_start(runs[0][0]),
        )
        .annotate(
            day=TruncDate("request__created_at", tzinfo=zone),
            bucket=_bucket(_column(Appointment, "starts_at"), created),
        )
        .values("day", "bucket")
        .order_by()
        .annotate(n=Count("pk"))
        .values_list("day", "bucket", "n")
    )
    for key, rows in (("contact", contacts), ("appointment", appointments)):
        for day, bucket, n in rows:
            figures[day][key][int(bucket)] = n
    return {day: _canonical(counted) for day, counted in figures.items()}


def _canonical(counted: dict) -> dict:
    """The stored form: sorted, seconds whole, and as few lists as can be (a page parses a row per day)."""
    return {
        "visits": sorted([service_id, mark, n] for (service_id, mark), n in counted["visits"].items()),
        "booked": [
            number
            for pk, (booked, attended) in sorted(counted["booked"].items())
            for number in (pk, round(booked), round(attended))
        ],
        "contact": histogram_runs(counted["contact"]),
        "appointment": histogram_runs(counted["appointment"]),
    }


def histogram_runs(counts: dict[int, int]) -> list[list[int]]:
    """``{bucket: n}`` as runs of consecutive buckets, ``[first bucket, n, n, ...]``: one short list for a day
    whose waits are close together, a pair per bucket at most for one whose waits are far apart."""
    runs: list[list[int]] = []
    for bucket in sorted(counts):
        if runs and runs[-1][0] + len(runs[-1]) - 1 == bucket:
            runs[-1].append(counts[bucket])
        else:
            runs.append([bucket, counts[bucket]])
    return runs


def _count_and_store(days: Iterable[dt.date]) -> dict[dt.date, dict]:
    """Count ``days`` now and keep what was counted, so that the next read finds them current.

    The days' rows are locked while they are counted (made first when missing), by the counters only: writers
    never touch them. A day another counter holds is counted here but not stored (that one stores it). The changes
    read after taking the lock are deleted with the store: each was committed before the count began, so the count
    has it; a change committed later keeps its row, and the day is counted again."""
    days = sorted(set(days))
    if not days:
        return {}
    AttendanceDay.objects.bulk_create([AttendanceDay(day=day) for day in days], ignore_conflicts=True)
    with transaction.atomic():
        held = list(
            AttendanceDay.objects.filter(day__in=days)
            .order_by("day")
            .select_for_update(skip_locked=True)
            .values_list("day", flat=True)
        )
        changes = list(AttendanceDayChange.objects.filter(day__in=held).values_list("pk", flat=True))
        counted = attendance_days_counted(days)
        for day in held:
            AttendanceDay.objects.filter(day=day).update(figures=counted[day])
        AttendanceDayChange.objects.filter(pk__in=changes).delete()
    return counted


def attendance_days_figures(*, first_day: dt.date, last_day: dt.date) -> dict[dt.date, dict]:
    """The figures of every day from ``first_day`` to ``last_day``, as counted now: the stored ones where current,
    the others counted (and stored)."""
    result = dict(
        AttendanceDay.objects.current().filter(day__gte=first_day, day__lte=last_day).values_list("day", "figures")
    )
    days = [first_day + dt.timedelta(days=offset) for offset in range((last_day - first_day).days + 1)]
    result.update(_count_and_store(day for day in days if day not in result))
    return result


def attendance_days_window() -> int:
    return settings.ATTENDANCE_DAYS_WINDOW


def attendance_days_count(*, limit: int | None = None, today: dt.date | None = None, recount: bool = False) -> int:
    """Count and store the stale or missing days of the last `attendance_days_window` days (every one of them with
    ``recount``), most recent first, at most ``limit`` (default ATTENDANCE_DAYS_PER_RUN); return how many."""
    today = today or clinic_day(timezone.now())
    first = today - dt.timedelta(days=attendance_days_window() - 1)
    limit = settings.ATTENDANCE_DAYS_PER_RUN if limit is None else limit
    current = (
        set()
        if recount
        else set(AttendanceDay.objects.current().filter(day__gte=first, day__lte=today).values_list("day", flat=True))
    )
    stale = []
    for offset in range((today - first).days + 1):
        day = today - dt.timedelta(days=offset)
        if day not in current:
            stale.append(day)
        if len(stale) >= limit:
            break
    _count_and_store(stale)
    return len(stale)
