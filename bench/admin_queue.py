"""Time the staff triage queue with a realistic history: 100,000 requests on PostgreSQL.

    .venv/bin/python bench/admin_queue.py                       # about 2 minutes on 2 cores
    .venv/bin/python bench/admin_queue.py --requests 20000 --loads 10 --keep
    .venv/bin/python bench/admin_queue.py --requests 1000000 --fill sql  # about 8 minutes on 2 busy cores

Creates the database named in --database-url (default postgres://postgres@127.0.0.1:5432/clinic_bench6),
migrates it, fills it with requests spread over the last 120 days (priorities, statuses, assignment, call
attempts, notes, history events and notifications in realistic proportions; appointments with attendance marks and
first contacts for the attendance figures, `fill_attendance`), then loads each staff page
--loads times through Django's test client, signed in as a member of the "Triage staff" group, and prints the
median, 95th percentile and the number of SQL queries of each, then the attendance figures alone for 28, 90 and
120 days: with the last three days stale (the rest counted by the beat job), with every day missing, with every
day current; and what one day and 120 days cost to count. The database is dropped at the end unless --keep.

In-process (no web server, no network): the figures are the time Django and PostgreSQL take to build the page.
"""

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/clinic_bench6"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--loads", type=int, default=20, help="page loads per page (after one warm-up load)")
    parser.add_argument("--keep", action="store_true", help="keep the database (and reuse it if already filled)")
    parser.add_argument(
        "--fill",
        choices=("python", "sql"),
        default="python",
        help="python: rows built by the ORM (about 1,000 requests a second on 2 busy cores); sql: the same"
        " proportions written by PostgreSQL itself (generate_series; 1,000,000 requests in about 3 minutes)",
    )
    return parser.parse_args()


def database_recreate(url: str, *, keep: bool) -> bool:
    """Create the bench database; returns False when --keep found it already there."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and keep:
            return False
        if exists:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return True


def database_drop(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')


def fill(count: int) -> dict[str, int]:
    """Requests over the last 120 days: most older ones closed, recent ones open, with their records."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from callbacks.models import CallAttempt, CallbackRequest, Notification, Priority, RequestEvent, StaffNote
    from callbacks.requests.consent import CURRENT_CONSENT_VERSION, consent_text_sha256

    rng = random.Random(6)
    users = get_user_model()
    group = Group.objects.get(name="Triage staff")
    staff = []
    for n in range(8):
        user = users.objects.create_user(f"bench-staff{n}", password=None, is_staff=True, first_name=f"Staff{n}")
        user.groups.add(group)
        staff.append(user)
    now = dt.datetime.now(dt.UTC)
    sha = consent_text_sha256()
    allowance = {
        1: dt.timedelta(minutes=15),
        2: dt.timedelta(hours=2),
        3: dt.timedelta(days=1),
        4: dt.timedelta(days=1),
    }
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    Status, Outcome = CallbackRequest.Status, CallbackRequest.Outcome
    totals = {"requests": 0, "events": 0, "notifications": 0, "call_attempts": 0, "notes": 0}
    batch = 5000
    for start in range(0, count, batch):
        rows = []
        for index in range(start, min(start + batch, count)):
            age = dt.timedelta(minutes=rng.uniform(0, 120 * 24 * 60) ** 1.0)
            created = now - age
            priority = rng.choices(Priority.values, weights=[2, 8, 25, 65])[0]
            if age > dt.timedelta(days=3):
                status = rng.choices([Status.CLOSED, Status.BOOKED, Status.CONTACTED], weights=[90, 6, 4])[0]
            else:
                status = rng.choices(Status.values, weights=[40, 25, 15, 10, 10])[0]
            code = "".join(alphabet[(index // 32**k) % 32] for k in range(5, -1, -1))
            rows.append(
                CallbackRequest(
                    reference=f"CB-{code}",
                    name=f"Bench Patient {index}",
                    phone=f"+4474{index:08d}",
                    window_start=created + dt.timedelta(hours=20),
                    window_end=created + dt.timedelta(hours=22),
                    reason="Lower back pain for a week, worse in the morning.",
                    consent_version=CURRENT_CONSENT_VERSION,
                    consent_text_sha256=sha,
                    consent_given_at=created,
                    created_at=created,
                    priority=priority,
                    deadline=created + allowance[priority],
                    status=status,
                    outcome=rng.choice(Outcome.values) if status == Status.CLOSED else "",
                    closed_at=created + dt.timedelta(days=1) if status == Status.CLOSED else None,
                    assigned_to=rng.choice(staff) if status != Status.NEW or rng.random() < 0.3 else None,
                )
            )
        requests = CallbackRequest.objects.bulk_create(rows)
        events, notifications, attempts, notes = [], [], [], []
        for cb in requests:
            notifications.append(
                Notification(
                    request=cb,
                    kind=Notification.Kind.STAFF_NEW_REQUEST,
                    recipient="frontdesk@clinic.test",
                    status=Notification.Status.SENT,
                    attempts=1,
                    created_at=cb.created_at,
                    sent_at=cb.created_at + dt.timedelta(seconds=3),
                )
            )
            if cb.status == Status.NEW:
                continue
            actor = cb.assigned_to or staff[0]
            at = cb.created_at + dt.timedelta(minutes=30)
            events.append(
                RequestEvent(request=cb, actor=actor, at=at, action="assigned", field="assigned_to", after="x")
            )
            events.append(
                RequestEvent(request=cb, actor=actor, at=at, action="status", field="status", before="New", after="x")
            )
            attempts.append(
                CallAttempt(request=cb, made_by=actor, made_at=at, outcome=rng.choice(CallAttempt.Outcome.values))
            )
            events.append(RequestEvent(request=cb, actor=actor, at=at, action="call", field="call_attempt", after="x"))
            if rng.random() < 0.15:
                notes.append(StaffNote(request=cb, author=actor, created_at=at, text="Prefers calls after 4pm."))
                events.append(RequestEvent(request=cb, actor=actor, at=at, action="note", field="note", after="x"))
        RequestEvent.objects.bulk_create(events)
        Notification.objects.bulk_create(notifications)
        CallAttempt.objects.bulk_create(attempts)
        # What `call_attempt_log` keeps on the request as each call is logged.
        CallbackRequest.objects.filter(pk__in={attempt.request_id for attempt in attempts}).update(calls_logged=1)
        StaffNote.objects.bulk_create(notes)
        totals["requests"] += len(requests)
        totals["events"] += len(events)
        totals["notifications"] += len(notifications)
        totals["call_attempts"] += len(attempts)
        totals["notes"] += len(notes)
        print(f"  {totals['requests']:>7} requests stored", end="\r", flush=True)
    print()
    return totals


_SQL_FILL = """
INSERT INTO callbacks_patient (id, name, name_key, phone, created_at)
SELECT i, 'Bench Patient ' || i, 'bench patient ' || i, '+4474' || lpad(i::text, 8, '0'), now()
FROM generate_series(1, %(count)s) AS i;
SELECT setval(pg_get_serial_sequence('callbacks_patient', 'id'), %(count)s);
INSERT INTO callbacks_callbackrequest (reference, kind, name, phone, email, window_start, window_end, reason,
  consent_version, consent_text_sha256, consent_given_at, consent_method, status, priority, deadline, created_at,
  updated_at, assigned_to_id, closed_at, outcome, idempotency_key, patient_record_id, text_consent_version,
  phone_relay_prefix)
SELECT 'CB-S' || lpad(upper(to_hex(i)), 8, '0'), 'callback', 'Bench Patient ' || i, '+4474' || lpad(i::text, 8, '0'),
  '', created + interval '20 hours', created + interval '22 hours',
  'Lower back pain for a week, worse in the morning.', %(consent_version)s, %(sha)s, created, 'online', status,
  priority, created + CASE priority WHEN 1 THEN interval '15 minutes' WHEN 2 THEN interval '2 hours'
  ELSE interval '1 day' END, created, created,
  CASE WHEN status <> 'new' OR ra < 0.3 THEN (%(staff)s::int[])[1 + floor(ra * 8)::int] END,
  CASE WHEN status = 'closed' THEN created + interval '1 day' END,
  CASE WHEN status = 'closed' THEN (%(outcomes)s::text[])[1 + floor(ro * 7)::int] ELSE '' END, '', i, '', ''
FROM (
  SELECT i, created, ra, ro,
    CASE WHEN rp < 0.02 THEN 1 WHEN rp < 0.10 THEN 2 WHEN rp < 0.35 THEN 3 ELSE 4 END AS priority,
    CASE WHEN created < now() - interval '3 days' THEN
      CASE WHEN rs < 0.90 THEN 'closed' WHEN rs < 0.96 THEN 'booked' ELSE 'contacted' END
    ELSE
      CASE WHEN rs < 0.40 THEN 'new' WHEN rs < 0.65 THEN 'in_progress' WHEN rs < 0.80 THEN 'contacted'
        WHEN rs < 0.90 THEN 'booked' ELSE 'closed' END
    END AS status
  FROM (SELECT i, now() - random() * interval '120 days' AS created, random() AS rp, random() AS rs,
          random() AS ra, random() AS ro
        FROM generate_series(1, %(count)s) AS i) AS raw
) AS s;
INSERT INTO callbacks_notification (request_id, kind, channel, recipient, status, attempts, last_error, created_at,
  next_attempt_at, sent_at, provider_message_id, delivery_status, text_body)
SELECT id, 'staff_new', 'email', 'frontdesk@clinic.test', 'sent', 1, '', created_at, created_at,
  created_at + interval '3 seconds', '', '', ''
FROM callbacks_callbackrequest;
INSERT INTO callbacks_requestevent (request_id, actor_id, at, action, field, before, after)
SELECT id, coalesce(assigned_to_id, %(first_staff)s), created_at + interval '30 minutes', a.action, a.field, '', 'x'
FROM callbacks_callbackrequest,
  (VALUES ('assigned', 'assigned_to'), ('status', 'status'), ('call', 'call_attempt')) AS a(action, field)
WHERE status <> 'new';
INSERT INTO callbacks_callattempt (request_id, made_by_id, made_at, outcome, note)
SELECT id, coalesce(assigned_to_id, %(first_staff)s), created_at + interval '30 minutes', 'no_answer', ''
FROM callbacks_callbackrequest WHERE status <> 'new';
UPDATE callbacks_callbackrequest SET calls_logged = 1, last_call_at = created_at + interval '30 minutes',
  last_call_by_id = coalesce(assigned_to_id, %(first_staff)s)
WHERE status <> 'new';
"""


# Issue 26's attendance figures: a first contact for every request someone reached, and an appointment for about
# one request in ten (three services, 100 practitioners working 08:00-20:00 on weekdays), laid out on the hour two
# days after the request so that no practitioner is booked twice (the exclusion constraint skips any clash);
# those in the past marked attended (85%), did not attend (10%) or cancelled late (5%).
_SQL_ATTENDANCE = """
UPDATE callbacks_callbackrequest SET first_contact_at = created_at + random() * interval '72 hours'
WHERE status IN ('contacted', 'booked', 'closed');
INSERT INTO callbacks_appointment (practitioner_id, service_id, starts_at, ends_at, status, request_id, revision,
  calendar_sequence, created_at, cancel_reason, status_before_cancel, attendance)
SELECT (%(practitioners)s::int[])[1 + j %% 100], (%(services)s::int[])[1 + j %% 3], starts,
  starts + interval '45 minutes', 'confirmed', id, 0, 0, created_at, '', '',
  CASE WHEN starts > now() THEN '' WHEN r < 0.85 THEN 'attended' WHEN r < 0.95 THEN 'dna' ELSE 'late_cancel' END
FROM (
  SELECT id, created_at, random() AS r, row_number() OVER (ORDER BY created_at) AS j,
    date_trunc('hour', created_at) + interval '2 days' AS starts
  FROM callbacks_callbackrequest WHERE status IN ('booked', 'closed') AND random() < 0.11
) AS booked
ON CONFLICT DO NOTHING;
"""


def fill_attendance() -> dict[str, int]:
    """The appointments, attendance marks and first contacts the attendance figures read (`_SQL_ATTENDANCE`)."""
    from django.db import connection

    from callbacks.models import Practitioner, Service, WorkingHours

    services = [Service.objects.create(name=f"Bench service {n}", duration_minutes=45).pk for n in range(3)]
    practitioners = []
    for n in range(100):
        practitioner = Practitioner.objects.create(name=f"Bench Practitioner {n:03d}")
        WorkingHours.objects.bulk_create(
            WorkingHours(practitioner=practitioner, weekday=day, start=dt.time(8), end=dt.time(20)) for day in range(5)
        )
        practitioners.append(practitioner.pk)
    with connection.cursor() as cursor:
        cursor.execute(_SQL_ATTENDANCE, {"practitioners": practitioners, "services": services})
        cursor.execute("SELECT count(*), count(*) FILTER (WHERE attendance <> '') FROM callbacks_appointment")
        appointments, marked = cursor.fetchone()
    return {"appointments": appointments, "attendance_marked": marked}


def time_call(function, loads: int, setup=None) -> dict[str, float]:
    """The same figures as `time_page` for a function called directly (one warm-up call first); ``setup``, when
    given, runs untimed before each call."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    setup = setup or (lambda: None)
    setup()
    function()
    setup()
    with CaptureQueriesContext(connection) as queries:
        function()
    durations = []
    for _ in range(loads):
        setup()
        started = time.perf_counter()
        function()
        durations.append((time.perf_counter() - started) * 1000)
    durations.sort()
    return {
        "median_ms": statistics.median(durations),
        "p95_ms": durations[max(0, round(0.95 * len(durations)) - 1)],
        "max_ms": durations[-1],
        "queries": len(queries),
    }


def fill_sql(count: int) -> dict[str, int]:
    """The proportions of `fill`, written by PostgreSQL in a few statements (no notes; one call attempt and three
    history events per request someone picked up; each request with a patient of its own). Much faster than the ORM
    for a million rows."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection

    from callbacks.models import CallbackRequest
    from callbacks.requests.consent import CURRENT_CONSENT_VERSION, consent_text_sha256

    group = Group.objects.get(name="Triage staff")
    staff = []
    for n in range(8):
        user = get_user_model().objects.create_user(
            f"bench-staff{n}", password=None, is_staff=True, first_name=f"Staff{n}"
        )
        user.groups.add(group)
        staff.append(user.pk)
    params = {
        "count": count,
        "consent_version": CURRENT_CONSENT_VERSION,
        "sha": consent_text_sha256(),
        "staff": staff,
        "first_staff": staff[0],
        "outcomes": CallbackRequest.Outcome.values,
    }
    with connection.cursor() as cursor:
        cursor.execute(_SQL_FILL, params)
        totals = {}
        for table in ("callbackrequest", "notification", "requestevent", "callattempt"):
            cursor.execute(f"SELECT count(*) FROM callbacks_{table}")  # noqa: S608 - fixed table names
            totals[table] = cursor.fetchone()[0]
    return totals


def time_page(client, url: str, loads: int) -> dict[str, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)  # warm-up: template compilation, first connection
    assert response.status_code == 200, (url, response.status_code)
    connection.queries_log.clear()  # a full log (it keeps 9000) would hide new entries from the count
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    query_count = len(queries)  # now: the log is emptied again at the start of every request
    durations = []
    for _ in range(loads):
        started = time.perf_counter()
        response = client.get(url)
        durations.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    durations.sort()
    return {
        "median_ms": statistics.median(durations),
        "p95_ms": durations[max(0, round(0.95 * len(durations)) - 1)],
        "max_ms": durations[-1],
        "queries": query_count,
        "bytes": len(response.content),
    }


def attendance_timings(loads: int) -> list[tuple[str, dict[str, float]]]:
    """The attendance figures alone, for the admin home's 28 days, the report's 90 and 120 days, counted as a page
    finds them: the days counted by the beat job with the last three marked stale since (a busy morning), and every
    day missing (the first read after migration 0035, the worst case). Then what counting costs: one day alone,
    and 120 days at once (the queries only, nothing stored)."""
    from django.utils import timezone

    from callbacks.booking.attendance_days import (
        attendance_days_count,
        attendance_days_counted,
        attendance_days_mark_stale,
    )
    from callbacks.booking.attendance_figures import attendance_figures
    from callbacks.models import AttendanceDay
    from clinic.hours import clinic_zone

    today = timezone.localtime(timezone.now(), clinic_zone()).date()
    started = time.perf_counter()
    counted = attendance_days_count(limit=400)
    print(f"  the beat job's count of {counted} day(s): {time.perf_counter() - started:.1f} s")

    def read(days: int):
        return lambda: attendance_figures(first_day=today - dt.timedelta(days=days - 1), last_day=today)

    def three_stale():
        attendance_days_mark_stale(days=[today - dt.timedelta(days=offset) for offset in range(3)])

    def all_missing(days: int):
        return lambda: AttendanceDay.objects.filter(day__gte=today - dt.timedelta(days=days - 1)).delete()

    results = []
    for days in (28, 90, 120):
        results.append((f"Attendance figures, {days} days, 3 stale", time_call(read(days), loads, three_stale)))
    for days in (28, 90, 120):
        results.append(
            (f"Attendance figures, {days} days, all missing", time_call(read(days), loads, all_missing(days)))
        )
    for days in (28, 90, 120):
        results.append((f"Attendance figures, {days} days, all current", time_call(read(days), loads)))
    one_day = [today - dt.timedelta(days=10)]
    results.append(
        ("One day counted (3 queries, not stored)", time_call(lambda: attendance_days_counted(one_day), loads))
    )
    period = [today - dt.timedelta(days=offset) for offset in range(120)]
    results.append(
        ("120 days counted (3 queries, not stored)", time_call(lambda: attendance_days_counted(period), loads))
    )
    attendance_days_count(limit=400)
    return results


def main():
    args = parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    os.environ["ADMIN_REQUIRE_2FA"] = "false"  # the client signs in with force_login; 2FA is not what is timed
    # Static files are served by their finders here; no collectstatic folder is needed.
    warnings.filterwarnings("ignore", message="No directory at")
    fresh = database_recreate(args.database_url, keep=args.keep)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import reverse

    from callbacks.models import CallbackRequest

    try:
        if fresh:
            print("Migrating...")
            call_command("migrate", verbosity=0)
            started = time.perf_counter()
            print(f"Filling with {args.requests} requests...")
            totals = fill_sql(args.requests) if args.fill == "sql" else fill(args.requests)
            # Each request has its own patient (the SQL fill writes them with the requests); the Python fill's
            # requests get theirs as migration 0027 gives a clinic's stored requests theirs, timed.
            from callbacks.patients.backfill import patients_backfill

            backfill_started = time.perf_counter()
            totals["patients_given"] = patients_backfill(connection)
            print(f"  patients given in {time.perf_counter() - backfill_started:.0f} s")
            totals.update(fill_attendance())
            with connection.cursor() as cursor:
                # What autovacuum does soon after a bulk load: statistics, and the visibility map that lets
                # PostgreSQL count from an index alone.
                cursor.execute("VACUUM ANALYZE")
            print(f"  filled in {time.perf_counter() - started:.0f} s: {totals}")
        total = CallbackRequest.objects.count()
        open_count = CallbackRequest.objects.open().count()
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.filter(username="bench-staff0").get()
        changelist = reverse("admin:callbacks_callbackrequest_changelist")
        deep_page = max(1, min(100, total // 50))
        busiest = CallbackRequest.objects.exclude(status="new").order_by("-created_at").first()
        pages = [
            ("Queue (open requests, first page of 50)", changelist),
            ("Queue, overdue only", changelist + "?overdue=yes"),
            ("Queue, assigned to me", changelist + "?assigned=me"),
            ("Queue, not yet called", changelist + "?called=no"),
            ("Queue, not screened", changelist + "?screened=no"),
            (f"Queue, all statuses, page {deep_page}", changelist + f"?status=all&p={deep_page}"),
            ("Search by phone as typed (07400 001234)", changelist + "?q=07400+001234"),
            ("Search by name", changelist + "?q=Patient+4242"),
            ("Admin home (glance, chart, 28-day attendance)", reverse("admin:index")),
            (
                "Outcome report (last 90 days, with attendance)",
                reverse("admin:callbacks_callbackrequest_outcome_report"),
            ),
            ("One request's page", reverse("admin:callbacks_callbackrequest_change", args=[busiest.pk])),
            ("Patients, search by phone as typed", reverse("admin:callbacks_patient_changelist") + "?q=07400+001234"),
            ("One patient's page", reverse("admin:callbacks_patient_change", args=[busiest.patient_record_id or 0])),
        ]
        # Production-like: no debug cursor or template debugging; plain static storage (no manifest needed).
        with override_settings(
            DEBUG=False,
            ALLOWED_HOSTS=["testserver"],
            STORAGES={
                "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
            },
        ):
            client = Client()
            client.force_login(user)
            results = [(label, time_page(client, url, args.loads)) for label, url in pages]
            results += attendance_timings(args.loads)
        server = connection.cursor().connection.info.server_version
        print(
            f"\n{total} requests ({open_count} open); {args.loads} loads per page after one warm-up; "
            f"Python {platform.python_version()}, PostgreSQL {server // 10000}.{server % 100}, "
            f"{os.cpu_count()} CPUs\n"
        )
        print(f"| {'page':<46} | median ms | p95 ms | max ms | queries |")
        print(f"|{'-' * 48}|-----------|--------|--------|---------|")
        for label, figures in results:
            print(
                f"| {label:<46} | {figures['median_ms']:>9.1f} | {figures['p95_ms']:>6.1f} | "
                f"{figures['max_ms']:>6.1f} | {figures['queries']:>7} |"
            )
    finally:
        connection.close()
        if not args.keep:
            database_drop(args.database_url)


if __name__ == "__main__":
    main()
