"""The booking page's day picker (issue 24, item 5): a week of days with their free-time counts, then one day's
times; plain links that keep the journey, and a clear message for a day that cannot be shown."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from callbacks.booking.slots import slots_free, slots_free_per_day
from callbacks.models import AvailabilityException, Practitioner, WorkingHours
from tests.callbacks.booking.test_booking import answer_all, appointment_row, choose_slot, local

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_bank_holidays(settings):
    # The counts below assume the clinic opens every day; a bank holiday in the next days would close one.
    settings.CLINIC_HOLIDAYS_COUNTRY = ""


def slots_url(service, query: str = "") -> str:
    return reverse("callbacks:booking_slots", kwargs={"service": service.pk}) + query


def day_tiles(page: str) -> dict[str, str]:
    """{date: the tile's text} for each day of the week shown, and whether it is a link ("link: ...")."""
    tiles = {}
    for link, date, text in re.findall(
        r'<li>\s*<(a class="booking-date" href="\?day=([0-9-]+)[^"]*"|span class="booking-date booking-date-none")>'
        r"(.*?)</(?:a|span)>\s*</li>",
        page,
        flags=re.S,
    ):
        words = " ".join(re.sub(r"<[^>]+>", " ", text).split())
        tiles[date or words] = ("link: " if link.startswith("a ") else "") + words
    return tiles


def test_the_days_page_lists_the_week_with_free_counts_full_and_closed_days(client, service, practitioner):
    today = timezone.localdate()
    busy, full, closed = (today + dt.timedelta(days=n) for n in (2, 3, 4))
    appointment_row(practitioner, service, local(busy, 9)).save()  # 09:00-09:45 takes the 09:00 and 09:30 slots
    appointment_row(practitioner, service, local(full, 9), minutes=8 * 60).save()
    AvailabilityException.objects.create(practitioner=practitioner, start=local(closed, 0), end=local(closed, 23))

    response = client.get(slots_url(service))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Choose a day: Initial assessment" in page and 'name="slot"' not in page
    tiles = day_tiles(page)
    assert len(tiles) == 7
    whole_day = len(slots_free(service=service, first_day=today + dt.timedelta(days=1), days=1))
    assert whole_day == 15  # 09:00 to 16:00, every half hour
    assert tiles[busy.isoformat()] == f"link: {busy:%a} {busy.day} {busy:%b} {whole_day - 2} free"
    # A full day and a day without times are not links, and say which they are.
    assert f"{full:%a} {full.day} {full:%b} Full" in tiles
    assert f"{closed:%a} {closed.day} {closed:%b} No times" in tiles
    assert "Today" in page.split('class="booking-calendar')[1].split("</ul>")[0]


def test_a_days_link_shows_only_that_days_times_grouped_morning_and_afternoon(client, service, practitioner):
    day = timezone.localdate() + dt.timedelta(days=2)
    page = client.get(slots_url(service, f"?day={day}")).content.decode()
    keys = re.findall(r'name="slot" value="([^"]+)"', page)
    assert keys == [slot.key for slot in slots_free(service=service, first_day=day, days=1)]
    assert f"<h1>{day:%A} {day.day} {day:%B}</h1>" in page
    assert re.findall(r'<h2 class="h6 mb-2" id="part-\d">(\w+)</h2>', page) == ["Morning", "Afternoon"]
    # The way back to the days is at the top and the bottom, to the week the day is in.
    assert page.count('href="?week=0">Choose another day</a>') == 2
    # Choosing a time posts it the way it always has: the questionnaire starts with that slot kept aside.
    response = client.post(slots_url(service), {"slot": keys[0]})
    assert response.status_code == 302 and "/safety/" in response["Location"]


def test_several_practitioners_show_their_names_on_the_times(client, service, practitioner):
    other = Practitioner.objects.create(name="Kim Osteo")
    other.services.add(service)
    WorkingHours.objects.create(practitioner=other, weekday=0, start=dt.time(9), end=dt.time(12))
    monday = timezone.localdate() + dt.timedelta(days=7 - timezone.localdate().weekday())
    page = client.get(slots_url(service, f"?day={monday}")).content.decode()
    assert "booking-times-named" in page
    assert page.count('<span class="booking-slot-who">Kim Osteo</span>') == 5  # 09:00 to 11:00


def test_week_navigation_is_at_the_top_and_the_bottom_and_stays_in_the_horizon(client, service, practitioner):
    first = client.get(slots_url(service)).content.decode()
    assert first.count('href="?week=1"') == 2 and "Earlier week" not in first
    last = client.get(slots_url(service, "?week=3")).content.decode()
    assert last.count('href="?week=2"') == 2 and "Later week" not in last
    assert len(day_tiles(last)) == 7
    # The last week ends with the last day a patient can book (four weeks from today).
    last_day = timezone.localdate() + dt.timedelta(days=27)
    assert f'href="?day={last_day}"' in last


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("nonsense", "We could not read that day. Choose one of the days below."),
        ("2026-02-30", "We could not read that day. Choose one of the days below."),
        ("1999-01-01", "That day has passed. Choose one of the days below."),
        ("yesterday", "That day has passed. Choose one of the days below."),
        ("in 28 days", "You can book up to 4 weeks ahead online."),
        ("9999-12-31", "You can book up to 4 weeks ahead online."),
        ("closed", "There are no free times on "),
    ],
)
def test_a_day_that_cannot_be_shown_gets_a_message_and_the_days(client, service, practitioner, day, message):
    today = timezone.localdate()
    closed = today + dt.timedelta(days=3)
    AvailabilityException.objects.create(practitioner=practitioner, start=local(closed, 0), end=local(closed, 23))
    day = {
        "yesterday": today - dt.timedelta(days=1),
        "in 28 days": today + dt.timedelta(days=28),
        "closed": closed,
    }.get(day, day)
    response = client.get(slots_url(service, f"?day={day}"))
    assert response.status_code == 200
    page = response.content.decode()
    assert re.search(r'<p class="alert alert-warning" role="alert">([^<]+)</p>', page).group(1).startswith(message)
    assert len(day_tiles(page)) == 7 and 'name="slot"' not in page
    if day == closed:
        assert f"{closed:%A} {closed.day} {closed:%B}" in page
        assert f"?day={closed}" not in page, "the day shown is the week holding it, the day itself not a link"


def test_the_days_and_times_of_a_booking_being_changed_keep_the_journey(client, service, practitioner):
    slot = slots_free(service=service, first_day=timezone.localdate() + dt.timedelta(days=1), days=1)[0]
    details_url = answer_all(client, choose_slot(client, service, slot))
    flow = details_url.split("/")[2]
    days = client.get(slots_url(service, f"?flow={flow}")).content.decode()
    assert f'href="?week=1&amp;flow={flow}"' in days
    day = slot.local_start.date() + dt.timedelta(days=1)
    assert f'href="?day={day}&amp;flow={flow}"' in days
    times = client.get(slots_url(service, f"?day={day}&flow={flow}")).content.decode()
    assert f'href="?week=0&amp;flow={flow}">Choose another day</a>' in times
    action = re.search(r'<form method="post" action="([^"]+)"', times).group(1)
    assert action == reverse("callbacks:booking_change_time", kwargs={"flow": flow})
    # A stranger's flow id is not carried along.
    stranger = client.get(slots_url(service, "?flow=someone-else")).content.decode()
    assert "someone-else" not in stranger


def test_free_counts_per_day_match_the_free_slots_in_a_bounded_number_of_queries(service, practitioner):
    today = timezone.localdate()
    appointment_row(practitioner, service, local(today + dt.timedelta(days=5), 10)).save()
    with CaptureQueriesContext(connection) as week_queries:
        week = slots_free_per_day(service=service, first_day=today, days=7)
    with CaptureQueriesContext(connection) as month_queries:
        month = slots_free_per_day(service=service, first_day=today, days=28)
    # Practitioners, their hours, exceptions, closures, appointments: the same few queries for a week or a month.
    assert len(week_queries) == len(month_queries) <= 5
    assert [each.day for each in month] == [today + dt.timedelta(days=n) for n in range(28)]
    assert month[:7] == week
    free = slots_free(service=service, first_day=today, days=28)
    for each in month:
        assert each.free == sum(1 for slot in free if slot.local_start.date() == each.day), each.day
    assert month[5].free == month[4].free - 3  # 10:00-10:45 takes 09:30, 10:00, 10:30 and not month[5].full
    assert month[4].offered == month[5].offered == 15
