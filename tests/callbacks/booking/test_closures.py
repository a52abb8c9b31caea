"""Bank holidays and the clinic's own closures: no slots, no callback windows, no deadline clock on those days;
and copying one day's hours to other days."""

import datetime as dt
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from callbacks.booking.hours import working_hours_copy
from callbacks.booking.slots import slots_free
from callbacks.models import ClinicClosure, Priority, WorkingHours
from callbacks.requests.closures import bank_holidays, clinic_closed_days, request_response_deadline
from callbacks.web.forms import CallbackRequestForm
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
# Christmas 2026 falls on a Friday; Boxing Day on the Saturday, observed on Monday 28 December.
CHRISTMAS_EVE = dt.date(2026, 12, 24)
NOW = dt.datetime(2026, 12, 1, 12, tzinfo=LONDON)


@pytest.fixture(autouse=True)
def england(settings):
    settings.CLINIC_HOLIDAYS_COUNTRY = "GB"
    settings.CLINIC_HOLIDAYS_SUBDIVISION = "ENG"
    settings.CLINIC_OPENING_HOURS = {day: (dt.time(8), dt.time(18)) for day in range(5)} | {
        5: (dt.time(9), dt.time(13))
    }


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LONDON)


def days_with_slots(service, first_day, days):
    return sorted(
        {
            slot.local_start.date()
            for slot in slots_free(service=service, now=NOW, first_day=first_day, days=days, by_staff=True)
        }
    )


def test_christmas_and_the_boxing_day_substitute_are_closed_days():
    closed = clinic_closed_days(CHRISTMAS_EVE, dt.date(2026, 12, 31))
    assert closed == {dt.date(2026, 12, 25), dt.date(2026, 12, 26), dt.date(2026, 12, 28)}
    names = dict(bank_holidays(CHRISTMAS_EVE, dt.date(2026, 12, 31)))
    assert names[dt.date(2026, 12, 25)] == "Christmas Day"


def test_no_slot_is_offered_on_a_bank_holiday(service, practitioner):
    # The practitioner works every day; the clinic is closed on the three holidays.
    assert days_with_slots(service, CHRISTMAS_EVE, 6) == [
        dt.date(2026, 12, 24),
        dt.date(2026, 12, 27),
        dt.date(2026, 12, 29),
    ]


def test_with_bank_holidays_off_christmas_has_slots(service, practitioner, settings):
    settings.CLINIC_HOLIDAYS_COUNTRY = ""
    assert dt.date(2026, 12, 25) in days_with_slots(service, CHRISTMAS_EVE, 2)


def test_the_subdivision_decides_regional_holidays(service, practitioner, settings):
    second_of_january = dt.date(2027, 1, 2)  # a bank holiday in Scotland only
    assert second_of_january not in clinic_closed_days(second_of_january, second_of_january)
    settings.CLINIC_HOLIDAYS_SUBDIVISION = "SCT"
    assert second_of_january in clinic_closed_days(second_of_january, second_of_january)


def test_christmas_day_is_not_working_time_for_the_deadline():
    # A routine request ("1d": closing time on the next working day) on Christmas Eve afternoon: the 25th, 26th
    # (a Saturday, normally open) and the 28th are closed, so it is due on Tuesday 29th at closing time.
    received = at(CHRISTMAS_EVE, 16)
    assert request_response_deadline(priority=Priority.ROUTINE, received_at=received) == at(dt.date(2026, 12, 29), 18)
    # An urgent one ("2h" of opening time): one hour left on the 24th, the other from Tuesday's opening.
    assert request_response_deadline(priority=Priority.URGENT, received_at=at(CHRISTMAS_EVE, 17)) == at(
        dt.date(2026, 12, 29), 9
    )


def test_a_staff_closure_closes_slots_and_stops_the_clock(service, practitioner):
    day = dt.date(2026, 12, 2)  # a Wednesday
    ClinicClosure.objects.create(first_day=day, last_day=day + dt.timedelta(days=1), reason="Staff training")
    assert days_with_slots(service, day, 3) == [dt.date(2026, 12, 4)]
    received = at(dt.date(2026, 12, 1), 17, 30)
    assert request_response_deadline(priority=Priority.ROUTINE, received_at=received) == at(dt.date(2026, 12, 4), 18)


def test_the_callback_form_refuses_a_closed_day():
    data = {
        "name": "Alex Example",
        "phone": "07400 123456",
        "preferred_date": "2026-12-25",
        "preferred_time": "10:00",
        "reason": "Back spasms.",
        "consent": "on",
    }
    form = CallbackRequestForm(data)
    # The form compares the day with today: it is early December.
    with mock.patch("django.utils.timezone.localdate", return_value=dt.date(2026, 12, 20)):
        assert not form.is_valid()
    assert form.errors["preferred_date"] == ["The clinic is closed that day. Choose another day."]
    with mock.patch("django.utils.timezone.localdate", return_value=dt.date(2026, 12, 20)):
        assert CallbackRequestForm({**data, "preferred_date": "2026-12-29"}).is_valid()


# Copying hours ----------------------------------------------------------------------------------------------


def test_copying_monday_to_the_weekdays_replaces_their_hours(practitioner):
    WorkingHours.objects.filter(practitioner=practitioner).delete()
    WorkingHours.objects.create(practitioner=practitioner, weekday=0, start=dt.time(9), end=dt.time(12))
    WorkingHours.objects.create(practitioner=practitioner, weekday=0, start=dt.time(13), end=dt.time(17))
    WorkingHours.objects.create(practitioner=practitioner, weekday=2, start=dt.time(7), end=dt.time(8))
    WorkingHours.objects.create(practitioner=practitioner, weekday=6, start=dt.time(10), end=dt.time(11))
    assert working_hours_copy(practitioner=practitioner, from_weekday=0, to_weekdays=[1, 2, 3, 4]) == 8
    blocks = {
        (hours.weekday, hours.start.hour, hours.end.hour)
        for hours in WorkingHours.objects.filter(practitioner=practitioner)
    }
    expected = {(day, start, end) for day in range(5) for start, end in ((9, 12), (13, 17))} | {(6, 10, 11)}
    assert blocks == expected


def test_the_admin_copies_hours_with_a_form(client, practitioner):
    client.force_login(UserFactory(username="desk", is_superuser=True))
    WorkingHours.objects.filter(practitioner=practitioner).exclude(weekday=0).delete()
    change = client.get(reverse("admin:callbacks_practitioner_change", args=[practitioner.pk])).content.decode()
    url = reverse("admin:callbacks_practitioner_copy_hours", args=[practitioner.pk])
    assert url in change
    page = client.get(url)
    assert page.status_code == 200 and "Copy the hours" in page.content.decode()
    refused = client.post(url, {"from_weekday": "0"})
    assert "Tick at least one day to copy to." in refused.content.decode()
    assert WorkingHours.objects.filter(practitioner=practitioner).count() == 1
    done = client.post(url, {"from_weekday": "0", "to_weekdays": ["1", "2", "3", "4"]}, follow=True)
    assert "Monday&#x27;s hours copied to Tuesday, Wednesday, Thursday, Friday" in done.content.decode()
    assert sorted(WorkingHours.objects.filter(practitioner=practitioner).values_list("weekday", flat=True)) == [
        0,
        1,
        2,
        3,
        4,
    ]


def test_the_closures_admin_lists_the_coming_bank_holidays(client):
    client.force_login(UserFactory(username="desk", is_superuser=True))
    page = client.get(reverse("admin:callbacks_clinicclosure_changelist")).content.decode()
    assert "Christmas Day" in page
    response = client.post(
        reverse("admin:callbacks_clinicclosure_add"),
        {"first_day": "2026-12-03", "last_day": "2026-12-02", "reason": "Training"},
    )
    assert response.status_code == 200 and not ClinicClosure.objects.exists()
