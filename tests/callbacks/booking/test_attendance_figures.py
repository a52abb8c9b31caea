"""The attendance figures (issue 26, item 9): did-not-attend rate by service and weekday, days from request to
first contact and to first appointment (median, 92nd percentile), utilisation per practitioner. Runs on SQLite
and in the PostgreSQL pass; the rollup they are read from is tested in test_attendance_days."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from callbacks.booking.attendance_figures import attendance_figures, histogram_percentile
from callbacks.models import AvailabilityException, ClinicClosure, Practitioner, Service, WorkingHours
from clinic.hours import clinic_zone
from tests.factories import AppointmentFactory, CallbackRequestFactory

pytestmark = pytest.mark.django_db

ZONE = clinic_zone()
MONDAY = dt.date(2026, 11, 2)


def at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=ZONE)


@pytest.mark.parametrize(
    ("histogram", "fraction", "expected"),
    [
        ([], 0.5, None),
        ([(4.0, 1)], 0.92, 4.0),
        ([(1, 1), (2, 1), (3, 1), (4, 1)], 0.5, 2.5),
        ([(0, 1), (10, 1)], 0.92, 9.2),
        # Counts stand for repeated values: 1, 1, 1, 5 -> median 1, 92nd percentile 1 + 0.76 * 4.
        ([(1, 3), (5, 1)], 0.5, 1),
        ([(1, 3), (5, 1)], 0.92, 1 + 0.76 * 4),
    ],
)
def test_percentiles_are_postgresqls_interpolation_of_the_histogram(histogram, fraction, expected):
    value = histogram_percentile(histogram, fraction)
    assert value == (pytest.approx(expected) if expected is not None else None)


def test_did_not_attend_rate_by_service_and_weekday(service, practitioner):
    other = Service.objects.create(name="Follow-up visit", duration_minutes=30)
    marks = ["attended"] * 6 + ["dna"] * 2 + ["late_cancel"]
    for index, mark in enumerate(marks):
        AppointmentFactory(
            service=service,
            practitioner=practitioner,
            starts_at=at(MONDAY, 9 + index % 8) + dt.timedelta(days=7 * (index // 8)),
            attendance=mark,
        )
    # Tuesday, another service: too few to show a rate.
    AppointmentFactory(
        service=other, practitioner=practitioner, starts_at=at(MONDAY + dt.timedelta(days=1), 10), attendance="dna"
    )
    # Not marked, or outside the period: not counted.
    AppointmentFactory(service=service, practitioner=practitioner, starts_at=at(MONDAY, 17))
    AppointmentFactory(
        service=service, practitioner=practitioner, starts_at=at(MONDAY - dt.timedelta(days=7), 9), attendance="dna"
    )
    figures = attendance_figures(first_day=MONDAY, last_day=MONDAY + dt.timedelta(days=13))
    by_service = {row.label: row for row in figures.by_service}
    assert (by_service[service.name].attended, by_service[service.name].did_not_attend) == (6, 2)
    assert by_service[service.name].cancelled_late == 1
    assert by_service[service.name].rate_shown == "25.0%"
    assert by_service[other.name].rate_shown == "fewer than 5"
    assert [row.label for row in figures.by_weekday] == ["Monday", "Tuesday"]
    assert figures.overall.did_not_attend == 3


def test_days_from_request_to_first_contact_and_first_appointment(service, practitioner):
    received = at(MONDAY, 9)
    for days in range(1, 11):  # contacted after 1..10 days
        CallbackRequestFactory(created_at=received, first_contact_at=received + dt.timedelta(days=days))
    CallbackRequestFactory(created_at=received)  # never contacted: not counted
    CallbackRequestFactory(created_at=received - dt.timedelta(days=30), first_contact_at=received)  # before the period
    for days in (2, 4, 6, 8, 10):
        request = CallbackRequestFactory(kind="booking", created_at=received)
        AppointmentFactory(
            request=request, service=service, practitioner=practitioner, starts_at=received + dt.timedelta(days=days)
        )
    cancelled = CallbackRequestFactory(kind="booking", created_at=received)
    AppointmentFactory(
        request=cancelled,
        service=service,
        practitioner=practitioner,
        starts_at=received + dt.timedelta(days=90),
        status="cancelled",
    )
    figures = attendance_figures(first_day=MONDAY, last_day=MONDAY + dt.timedelta(days=6))
    contact, appointment = figures.waits
    assert contact.counted == 10
    assert contact.median == pytest.approx(5.5)
    assert contact.p92 == pytest.approx(1 + 0.92 * 9)
    assert (contact.median_shown, contact.p92_shown) == ("5.5 days", "9.3 days")
    assert appointment.counted == 5 and appointment.median == pytest.approx(6)
    assert appointment.p92 == pytest.approx(8 + 0.68 * 2)


def test_utilisation_counts_bookable_hours_less_closures_and_time_away(service):
    sam = Practitioner.objects.create(name="Sam Physio")
    WorkingHours.objects.create(practitioner=sam, weekday=0, start=dt.time(9), end=dt.time(17))  # Mondays, 8 h
    ClinicClosure.objects.create(
        first_day=MONDAY + dt.timedelta(days=7), last_day=MONDAY + dt.timedelta(days=7), reason="Training"
    )
    AvailabilityException.objects.create(practitioner=sam, start=at(MONDAY, 9), end=at(MONDAY, 13))
    AppointmentFactory(
        service=service, practitioner=sam, starts_at=at(MONDAY, 14), ends_at=at(MONDAY, 15), attendance="attended"
    )
    AppointmentFactory(
        service=service, practitioner=sam, starts_at=at(MONDAY, 15), ends_at=at(MONDAY, 16), attendance="dna"
    )
    AppointmentFactory(
        service=service, practitioner=sam, starts_at=at(MONDAY, 16), ends_at=at(MONDAY, 17), status="cancelled"
    )
    [row] = attendance_figures(first_day=MONDAY, last_day=MONDAY + dt.timedelta(days=13)).utilisation
    # Two Mondays of 8 h, one closed, 4 h away on the other: 4 h bookable, 2 booked, 1 attended.
    assert (row.available_minutes, row.booked_minutes, row.attended_minutes) == (240, 120, 60)
    assert (row.booked_shown, row.attended_shown) == ("50%", "25%")


def test_the_figures_cost_a_fixed_number_of_queries(service, practitioner, django_assert_max_num_queries):
    for day in range(20):
        AppointmentFactory(
            service=service,
            practitioner=practitioner,
            starts_at=at(MONDAY + dt.timedelta(days=day), 10),
            attendance="attended",
        )
    attendance_figures(first_day=MONDAY, last_day=MONDAY + dt.timedelta(days=27))
    # Every day counted: the days in one query, then the names, the practitioners, their hours, time away and
    # the clinic's closures; whatever the period's length.
    with django_assert_max_num_queries(7):
        attendance_figures(first_day=MONDAY, last_day=MONDAY + dt.timedelta(days=27))


def test_the_admin_home_and_the_outcome_report_show_them(admin_client, service, practitioner):
    today = timezone.localtime(timezone.now(), ZONE).date()
    for index in range(5):
        AppointmentFactory(
            service=service,
            practitioner=practitioner,
            starts_at=at(today - dt.timedelta(days=1 + index), 10),
            attendance="dna" if index == 0 else "attended",
        )
    home = admin_client.get(reverse("admin:index")).content.decode()
    assert "Did not attend, by service" in home and "20.0%" in home
    assert "Utilisation per practitioner" in home and practitioner.name in home
    report = admin_client.get(reverse("admin:callbacks_callbackrequest_outcome_report")).content.decode()
    assert "Did not attend, by weekday" in report and "Days waited" in report


def test_the_pages_show_a_mark_at_once(service, practitioner):
    from callbacks.booking.attendance_figures import attendance_figures_cached

    visit = AppointmentFactory(service=service, practitioner=practitioner, starts_at=at(MONDAY, 10), attendance="dna")
    assert attendance_figures_cached(first_day=MONDAY, last_day=MONDAY).overall.did_not_attend == 1
    visit.attendance = "attended"
    visit.save(update_fields=["attendance"])
    again = attendance_figures_cached(first_day=MONDAY, last_day=MONDAY)
    assert (again.overall.did_not_attend, again.overall.attended) == (0, 1)
