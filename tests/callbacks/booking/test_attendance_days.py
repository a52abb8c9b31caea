"""The attendance figures' per-day rollup (callbacks.booking.attendance_days): after every kind of change the
stored days equal a count from scratch, a change made while a day is counted is never lost, and the beat job
counts the stale days, a bounded number per run. Runs on SQLite and in the PostgreSQL pass."""

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from callbacks import tasks
from callbacks.booking import attendance_days
from callbacks.booking.attendance import appointment_attendance_mark
from callbacks.booking.attendance_days import (
    attendance_days_count,
    attendance_days_counted,
    attendance_days_figures,
    attendance_days_mark_stale,
    clinic_day,
)
from callbacks.booking.attendance_figures import attendance_figures
from callbacks.booking.desk import appointment_cancel_by_clinic, appointment_move
from callbacks.booking.from_request import appointment_book_for_request
from callbacks.booking.services import appointment_cancel, appointment_decline
from callbacks.models import Appointment, AttendanceDay, AttendanceDayChange
from callbacks.privacy.services import callback_request_erase
from callbacks.requests.workflow import call_attempt_log, callback_request_status_change
from tests.callbacks.booking.test_booking import a_free_slot
from tests.callbacks.booking.test_courses import book_course, next_monday
from tests.factories import AppointmentFactory, CallbackRequestFactory, UserFactory

pytestmark = pytest.mark.django_db


def today() -> dt.date:
    return clinic_day(timezone.now())


def period() -> tuple[dt.date, dt.date]:
    return today() - dt.timedelta(days=40), today() + dt.timedelta(days=60)


def assert_stored_days_are_a_fresh_count():
    """Every day the rollup calls current holds what counting it now gives, and the figures read through it are
    those of a period counted from nothing."""
    current = list(AttendanceDay.objects.current())
    assert current, "nothing was counted before the change"
    fresh = attendance_days_counted([row.day for row in current])
    assert {row.day: row.figures for row in current} == fresh
    first, last = period()
    kept = attendance_figures(first_day=first, last_day=last)
    AttendanceDay.objects.all().delete()
    assert attendance_figures(first_day=first, last_day=last) == kept


def is_current(day: dt.date) -> bool:
    return AttendanceDay.objects.current().filter(day=day).exists()


@pytest.fixture
def staff():
    return UserFactory(username="fran", first_name="Fran", last_name="Desk")


@pytest.fixture
def clinic(service, practitioner):
    """Requests received over the last weeks, some contacted, with visits past (marked) and to come."""
    now = timezone.now()
    world = {"past": [], "requests": []}
    for days_ago in range(1, 8):
        received = now - dt.timedelta(days=days_ago * 3, hours=days_ago)
        request = CallbackRequestFactory(created_at=received, first_contact_at=received + dt.timedelta(hours=days_ago))
        world["requests"].append(request)
        booked = CallbackRequestFactory(kind="booking", created_at=received)
        world["past"].append(
            AppointmentFactory(
                request=booked,
                service=service,
                practitioner=practitioner,
                starts_at=received + dt.timedelta(days=2),
                attendance="attended" if days_ago % 3 else "dna",
            )
        )
    for days_ahead, status in ((3, "requested"), (4, "confirmed"), (6, "requested")):
        slot = a_free_slot(service, days_ahead=days_ahead)
        world[status + str(days_ahead)] = AppointmentFactory(
            request=CallbackRequestFactory(kind="booking", created_at=now - dt.timedelta(days=2)),
            service=service,
            practitioner=practitioner,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            status=status,
        )
    first, last = period()
    attendance_figures(first_day=first, last_day=last)  # every day of the period counted and stored
    assert not AttendanceDay.objects.stale().exists()
    return world


def mark_attended(world, staff, service, practitioner):
    appointment_attendance_mark(appointment=world["past"][0], attendance="dna", user=staff)


def move_to_another_day(world, staff, service, practitioner):
    slot = a_free_slot(service, days_ahead=9)
    appointment_move(appointment=world["confirmed4"], starts_at=slot.starts_at, user=staff)


def move_a_stale_instance(world, staff, service, practitioner):
    # The desk moves it; a copy loaded before the move then saves a mark: the day left comes from the database.
    stale = Appointment.objects.get(pk=world["requested6"].pk)
    move_to_another_day({"confirmed4": world["requested6"]}, staff, service, practitioner)
    stale.attendance = "late_cancel"
    stale.save(update_fields=["attendance"])


def cancel_by_patient(world, staff, service, practitioner):
    appointment_cancel(appointment=world["confirmed4"])


def cancel_by_clinic(world, staff, service, practitioner):
    appointment_cancel_by_clinic(appointment=world["requested3"], user=staff, reason="Practitioner ill")


def decline(world, staff, service, practitioner):
    appointment_decline(appointment=world["requested3"], user=staff)


def delete_appointment(world, staff, service, practitioner):
    world["past"][1].delete()


def book_from_request(world, staff, service, practitioner):
    slot = a_free_slot(service, days_ahead=5)
    request = world["requests"][2]
    appointment_book_for_request(
        request=request, service=service, practitioner_id=practitioner.pk, starts_at=slot.starts_at, staff=staff
    )


def book_a_course(world, staff, service, practitioner):
    monday = next_monday(after_days=10)
    starts = [
        dt.datetime.combine(monday + dt.timedelta(weeks=week), dt.time(11), tzinfo=timezone.get_current_timezone())
        for week in range(3)
    ]
    book_course(service, practitioner, staff, starts)


def log_first_contact(world, staff, service, practitioner):
    request = CallbackRequestFactory(created_at=timezone.now() - dt.timedelta(days=5, hours=3))
    attendance_figures(first_day=period()[0], last_day=period()[1])
    call_attempt_log(request=request, actor=staff, outcome="reached")


def log_an_earlier_contact(world, staff, service, practitioner):
    request = world["requests"][3]
    call_attempt_log(
        request=request, actor=staff, outcome="reached", made_at=request.created_at + dt.timedelta(minutes=7)
    )


def mark_contacted(world, staff, service, practitioner):
    request = CallbackRequestFactory(created_at=timezone.now() - dt.timedelta(days=9))
    attendance_figures(first_day=period()[0], last_day=period()[1])
    callback_request_status_change(request=request, status="contacted", outcome="", actor=staff, reason="They rang us")


def erase_request(world, staff, service, practitioner):
    callback_request_erase(request=world["past"][2].request, actor=staff)


def erase_contacted_request(world, staff, service, practitioner):
    callback_request_erase(request=world["requests"][4], actor=staff)


@pytest.mark.parametrize(
    "change",
    [
        mark_attended,
        move_to_another_day,
        move_a_stale_instance,
        cancel_by_patient,
        cancel_by_clinic,
        decline,
        delete_appointment,
        book_from_request,
        book_a_course,
        log_first_contact,
        log_an_earlier_contact,
        mark_contacted,
        erase_request,
        erase_contacted_request,
    ],
)
def test_after_every_kind_of_change_the_rollup_equals_a_count_from_scratch(
    change, clinic, staff, service, practitioner
):
    first, last = period()
    before = attendance_figures(first_day=first, last_day=last)
    change(clinic, staff, service, practitioner)
    assert AttendanceDay.objects.stale().exists(), "the change marked no day"
    after = attendance_figures(first_day=first, last_day=last)
    assert after != before
    assert_stored_days_are_a_fresh_count()


def test_saves_of_fields_no_day_counts_mark_nothing(clinic):
    appointment = clinic["confirmed4"]
    changes = AttendanceDayChange.objects.count()
    appointment.reminder_sent_at = timezone.now()
    appointment.save(update_fields=["reminder_sent_at"])
    request = clinic["requests"][0]
    request.calls_logged += 1
    request.save(update_fields=["calls_logged"])
    assert AttendanceDayChange.objects.count() == changes


def test_a_change_while_a_day_is_counted_is_not_lost(clinic, staff):
    visit = clinic["past"][0]
    day = clinic_day(visit.starts_at)
    attendance_days_mark_stale(days=[day])
    counted_alone = attendance_days.attendance_days_counted

    def count_then_mark(days):
        counted = counted_alone(days)
        # Between the count and its store: a mark that the count did not see.
        appointment_attendance_mark(appointment=visit, attendance="late_cancel", user=staff)
        return counted

    with mock.patch.object(attendance_days, "attendance_days_counted", count_then_mark):
        seen = attendance_days_figures(first_day=day, last_day=day)[day]
    assert not is_current(day)  # the count of the old marks was not kept as current
    assert seen["visits"] != attendance_days_counted([day])[day]["visits"]
    assert attendance_days_figures(first_day=day, last_day=day)[day] == attendance_days_counted([day])[day]
    assert is_current(day)


def test_a_period_costs_one_query_for_the_days_and_three_for_the_stale_ones(
    clinic, django_assert_max_num_queries, django_assert_num_queries
):
    first, last = period()
    with django_assert_num_queries(1):
        attendance_days_figures(first_day=first, last_day=last)
    attendance_days_mark_stale(days=[today(), today() - dt.timedelta(days=3), today() - dt.timedelta(days=9)])
    # One read, three counts, and one store per stale day (a savepoint around each, in a test's transaction).
    with django_assert_max_num_queries(1 + 3 + 3 * 3):
        attendance_days_figures(first_day=first, last_day=last)
    with django_assert_num_queries(1):
        attendance_days_figures(first_day=first, last_day=last)


def test_the_beat_job_counts_the_stale_days_most_recent_first_and_is_bounded(clinic, settings):
    settings.ATTENDANCE_DAYS_WINDOW = 30
    AttendanceDay.objects.all().delete()
    stale = [today() - dt.timedelta(days=offset) for offset in (0, 2, 5, 40)]
    attendance_days_mark_stale(days=stale)
    assert attendance_days_count(limit=20) == 20
    counted = set(AttendanceDay.objects.current().values_list("day", flat=True))
    assert counted == {today() - dt.timedelta(days=offset) for offset in range(20)}
    assert attendance_days_count(limit=20) == 10  # the rest of the window
    assert attendance_days_count(limit=20) == 0
    # Outside the window: left to a page that shows it.
    assert not is_current(stale[-1])
    assert_stored_days_are_a_fresh_count()


def test_the_beat_task_runs_the_job(clinic, settings):
    settings.ATTENDANCE_DAYS_PER_RUN = 2
    attendance_days_mark_stale(days=[today()])
    AttendanceDay.objects.filter(day__lt=today() - dt.timedelta(days=40)).delete()
    # Today first, then the most recent day not yet counted; no more than the two of a run.
    assert tasks.attendance_days_count() == 2
    assert is_current(today())
    assert is_current(today() - dt.timedelta(days=41))
    entry = settings.CELERY_BEAT_SCHEDULE["callbacks-attendance-days-count"]
    assert entry["task"] == tasks.attendance_days_count.name


def test_a_request_received_contacted_counts_at_once():
    received = timezone.now() - dt.timedelta(days=1)
    attendance_figures(first_day=clinic_day(received), last_day=clinic_day(received))
    CallbackRequestFactory(created_at=received, first_contact_at=received + dt.timedelta(hours=2))
    row = AttendanceDay.objects.get(day=clinic_day(received))
    assert not row.current
    assert attendance_days_figures(first_day=row.day, last_day=row.day)[row.day]["contact"] == [[12, 1]]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_page_never_waits_for_a_writer_holding_the_day_and_keeps_nothing_it_may_have_missed(
    service, practitioner, staff
):
    """A desk's mark is in flight (its transaction has recorded the change, uncommitted) while a page reads the
    day, in two connections: the page does not wait for it, and its count is not kept as current; once the mark
    commits, the next read has it."""
    import threading
    import time

    from django.db import connection, transaction

    visit = AppointmentFactory(
        service=service, practitioner=practitioner, starts_at=timezone.now() - dt.timedelta(days=1), attendance="dna"
    )
    day = clinic_day(visit.starts_at)
    attendance_days_figures(first_day=day, last_day=day)
    attendance_days_mark_stale(days=[day])  # so that the page counts the day, and would store it
    marked, page_done = threading.Event(), threading.Event()

    def desk():
        try:
            with transaction.atomic():
                appointment_attendance_mark(appointment=visit, attendance="attended", user=staff)
                marked.set()
                assert page_done.wait(10)
        finally:
            connection.close()

    writer = threading.Thread(target=desk)
    writer.start()
    assert marked.wait(10)
    started = time.monotonic()
    seen = attendance_days_figures(first_day=day, last_day=day)[day]
    waited = time.monotonic() - started
    page_done.set()
    writer.join(10)
    assert waited < 5  # the writer holds its row for up to 10 s
    assert seen["visits"] == [[service.pk, "dna", 1]]  # the page saw the committed state
    row = AttendanceDay.objects.get(day=day)
    assert not row.current
    assert attendance_days_figures(first_day=day, last_day=day)[day]["visits"] == [[service.pk, "attended", 1]]


@pytest.mark.parametrize(
    "counts", [{}, {5: 1}, {1: 2, 2: 3, 3: 1, 9: 4}, {-2: 1, 0: 3, 400: 2}, {b: b % 7 + 1 for b in range(30, 90)}]
)
def test_a_histogram_in_runs_keeps_every_count_in_as_few_lists(counts):
    runs = attendance_days.histogram_runs(counts)
    assert {run[0] + offset: n for run in runs for offset, n in enumerate(run[1:])} == counts
    gaps = sum(1 for bucket in counts if bucket - 1 not in counts)
    assert len(runs) == gaps


def test_the_days_histograms_add_up_to_the_periods_percentiles():
    from callbacks.booking.attendance_figures import _days_figure, histogram_percentile

    days_counts = [{1: 2, 2: 1, 7: 1}, {0: 1, 2: 4, 3: 1}, {}, {-1: 1, 12: 2}]
    days = {
        dt.date(2026, 11, 2) + dt.timedelta(days=index): {"contact": attendance_days.histogram_runs(counts)}
        for index, counts in enumerate(days_counts)
    }
    figure = _days_figure("Request to first contact", days, "contact")
    values = sorted(bucket for counts in days_counts for bucket, n in counts.items() for _ in range(n))
    assert figure.counted == len(values) == 13
    for fraction, found in ((0.5, figure.median), (0.92, figure.p92)):
        expected = histogram_percentile([(value * 600.0, 1) for value in values], fraction) / 86400
        assert found == pytest.approx(expected)


def test_the_command_counts_the_window_at_once_and_recounts_on_demand(clinic, settings):
    from io import StringIO

    from django.core.management import call_command

    settings.ATTENDANCE_DAYS_WINDOW = 50
    AttendanceDay.objects.all().delete()
    out = StringIO()
    call_command("attendance_days_count", stdout=out)
    assert out.getvalue().startswith("50 day(s) counted")
    call_command("attendance_days_count", stdout=out)
    assert "\n0 day(s) counted" in out.getvalue()
    # A change the models never saw (raw SQL): only --recount finds it.
    Appointment.objects.filter(pk=clinic["past"][0].pk).update(attendance="late_cancel")
    call_command("attendance_days_count", "--recount", stdout=out)
    assert "\n50 day(s) counted" in out.getvalue()
    assert_stored_days_are_a_fresh_count()


def test_a_random_run_of_changes_keeps_the_rollup_equal_to_a_count_from_scratch(clinic, service, practitioner):
    """Seeded, so a failure replays: saves, moves (kept apart by whole days, so never overlapping), marks, first
    contacts and deletions made through the models in any order, with the period read after some of them only."""
    import random

    pick = random.Random(26)
    now = timezone.now()
    visits = list(clinic["past"])
    for step in range(40):
        action = pick.choice(["mark", "move", "status", "contact", "delete", "book"])
        if action == "book" or not visits:
            request = CallbackRequestFactory(kind="booking", created_at=now - dt.timedelta(days=pick.randint(0, 30)))
            start = now - dt.timedelta(days=pick.randint(-20, 20), minutes=step * 50 % 1440)
            visits.append(
                AppointmentFactory(request=request, service=service, practitioner=practitioner, starts_at=start)
            )
        elif action == "contact":
            request = pick.choice(clinic["requests"])
            request.first_contact_at = request.created_at + dt.timedelta(minutes=pick.randint(1, 5000))
            request.save(update_fields=["first_contact_at"])
        else:
            visit = pick.choice(visits)
            if action == "mark":
                visit.attendance = pick.choice(["attended", "dna", "late_cancel", "arrived", ""])
                visit.save(update_fields=["attendance"])
            elif action == "move":
                shift = dt.timedelta(days=pick.choice([-3, -1, 1, 2, 5]) * 7)
                visit.starts_at, visit.ends_at = visit.starts_at + shift, visit.ends_at + shift
                visit.save()
            elif action == "status":
                visit.status = pick.choice(["requested", "confirmed", "cancelled", "declined"])
                visit.save(update_fields=["status"])
            else:
                visits.remove(visit)
                visit.delete()
        if pick.random() < 0.4:
            attendance_figures(first_day=period()[0], last_day=period()[1])
    assert_stored_days_are_a_fresh_count()


def test_a_deploys_release_step_counts_the_days_so_the_first_page_counts_none(clinic, settings):
    from django.core.management import call_command

    settings.ATTENDANCE_DAYS_WINDOW = 50
    AttendanceDay.objects.all().delete()
    call_command("release", verbosity=0)
    assert AttendanceDay.objects.current().count() == 50
    assert_stored_days_are_a_fresh_count()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_course_and_an_online_booking_of_the_same_time_end_in_slot_taken_never_a_deadlock():
    """The desk books a course (one transaction, a session at a time) while a patient books the course's second
    time online. Each records changes to today's and the visits' days: were those locks on shared rows, the course
    (holding today's row) would wait for the patient's uncommitted time and the patient for today's row. The marks
    are inserts only, so one of them gets the time and the other is told it has gone."""
    import threading
    import time

    from django.db import connection
    from django.db.models.signals import post_save

    from callbacks.booking.courses import course_book
    from callbacks.booking.services import SlotTaken, appointment_book
    from callbacks.booking.slots import slots_free
    from callbacks.models import CourseOfCare, Practitioner, Service, WorkingHours
    from callbacks.requests.consent import CURRENT_CONSENT_VERSION

    service = Service.objects.create(name="Initial assessment", duration_minutes=45)
    practitioner = Practitioner.objects.create(name="Sam Physio")
    practitioner.services.add(service)
    for weekday in range(7):
        WorkingHours.objects.create(practitioner=practitioner, weekday=weekday, start=dt.time(9), end=dt.time(17))
    desk_user = UserFactory(username="desk", is_staff=True)
    first = slots_free(service=service, first_day=timezone.localdate() + dt.timedelta(days=3), days=1)[0]
    second = slots_free(service=service, first_day=timezone.localdate() + dt.timedelta(days=10), days=1)[0]
    first_session_in = threading.Event()
    outcome = {}

    def hold_after_the_first_session(sender, instance, created, **kwargs):
        if threading.current_thread().name == "desk" and created and not first_session_in.is_set():
            first_session_in.set()
            time.sleep(2)  # the patient's booking goes in meanwhile

    def run(name, book):
        try:
            book()
            outcome[name] = "booked"
        except SlotTaken:
            outcome[name] = "slot taken"
        except Exception as exc:  # noqa: BLE001 - what went wrong is the test's finding
            outcome[name] = type(exc).__name__
        finally:
            connection.close()

    def desk():
        course_book(
            service=service,
            practitioner_id=practitioner.pk,
            starts=[first.starts_at, second.starts_at],
            cadence=CourseOfCare.Cadence.WEEKLY,
            sessions_asked=2,
            name="Casey Course",
            phone="07400 555666",
            reason="Back pain after lifting.",
            staff=desk_user,
        )

    def patient():
        assert first_session_in.wait(10)
        appointment_book(
            service=service,
            practitioner_id=practitioner.pk,
            starts_at=second.starts_at,
            name="Pat Online",
            phone="07400 111222",
            reason="Back pain.",
            consent_version=CURRENT_CONSENT_VERSION,
        )

    post_save.connect(hold_after_the_first_session, sender=Appointment, dispatch_uid="test-hold-course")
    try:
        threads = [
            threading.Thread(target=run, args=("desk", desk), name="desk"),
            threading.Thread(target=run, args=("patient", patient), name="patient"),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        post_save.disconnect(sender=Appointment, dispatch_uid="test-hold-course")
    assert sorted(outcome.values()) == ["booked", "slot taken"], outcome
