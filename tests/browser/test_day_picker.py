"""The booking page fits a phone (issue 24, item 5): a day first, then its times, each page at most two screens
tall at 360 x 740, with and without JavaScript, at phone and desktop widths, axe clean."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from callbacks.booking.links import appointment_reschedule_token
from callbacks.booking.slots import slot_key_parse, slots_free, slots_free_per_day
from callbacks.models import Appointment, Practitioner, Service, WorkingHours
from tests.browser.test_callback_journey import answer_step
from tests.browser.tools import DESKTOP_WIDTH, PHONE_WIDTH, axe_violations, html_errors, screenshot
from tests.callbacks.booking.test_booking import book
from tests.support.questionnaire import SCREENING_STEPS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREEN = {"width": PHONE_WIDTH, "height": 740}
CASES = [(PHONE_WIDTH, True), (PHONE_WIDTH, False), (DESKTOP_WIDTH, True), (DESKTOP_WIDTH, False)]
IDS = ["360", "360-no-js", "1280", "1280-no-js"]


@pytest.fixture
def busy_diary(settings):
    """Two practitioners working 08:00 to 18:00 every day: 38 times a day, 266 in a week."""
    settings.CLINIC_HOLIDAYS_COUNTRY = ""
    service = Service.objects.create(name="Initial assessment", duration_minutes=45)
    for name in ("Sam Physio", "Kim Osteopath"):
        practitioner = Practitioner.objects.create(name=name)
        practitioner.services.add(service)
        for weekday in range(7):
            WorkingHours.objects.create(practitioner=practitioner, weekday=weekday, start=dt.time(8), end=dt.time(18))
    return service


def days_with_free_times(service) -> int:
    """How many days of this week the picker should offer: each day from today with a free time (today has none
    once its last time is within the booking notice, late in the afternoon)."""
    week = slots_free_per_day(service=service, first_day=timezone.localdate(), days=7)
    return sum(1 for day in week if day.free)


def today_has_free_times(service) -> bool:
    return slots_free_per_day(service=service, first_day=timezone.localdate(), days=1)[0].free > 0


def open_at(open_page, width, javascript):
    page = open_page(width, javascript=javascript)
    if width == PHONE_WIDTH:
        page.set_viewport_size(SCREEN)
    return page


def document_height(page, javascript: bool) -> float:
    """The page's full height; read through a locator, which works with JavaScript off too."""
    height = page.locator("html").bounding_box()["height"]
    if javascript:
        assert page.evaluate("document.documentElement.scrollHeight") <= max(height, SCREEN["height"]) + 1
    return height


def check(page, name, width, javascript):
    screenshot(page, name + ("" if javascript else "-no-js"), width)
    assert document_height(page, javascript) <= 2 * SCREEN["height"], f"{name} is more than two screens tall"
    if javascript:  # evaluate() and axe run in the page, so only with JavaScript on
        assert page.evaluate("document.documentElement.scrollWidth") <= width, "no sideways scrolling"
        assert axe_violations(page) == [], name


@pytest.mark.parametrize(("width", "javascript"), CASES, ids=IDS)
def test_a_patient_picks_a_day_then_a_time_on_pages_that_fit_two_screens(open_page, busy_diary, width, javascript):
    page = open_at(open_page, width, javascript)
    page.goto(reverse("callbacks:booking_slots", kwargs={"service": busy_diary.pk}))
    check(page, "day-picker-1-days", width, javascript)
    days = page.locator("a.booking-date")
    # Every day of the week has free times, except today once its last time is within the booking notice.
    assert days.count() == days_with_free_times(busy_diary) >= 6, "each day with free times is a link"
    if today_has_free_times(busy_diary):
        assert days.first.inner_text().split()[0] == "Today"
    assert page.get_by_role("link", name="Later week").count() == 2, "at the top and the bottom"

    # The next week, then back: the days follow.
    page.get_by_role("link", name="Later week").last.click()
    week_later = timezone.localdate() + dt.timedelta(days=7)
    assert f"{week_later.day} {week_later:%b}" in page.locator("a.booking-date").first.inner_text()
    page.get_by_role("link", name="Earlier week").first.click()

    # A busy day: 38 times, two practitioners.
    busy_day = timezone.localdate() + dt.timedelta(days=2)
    page.locator(f'a.booking-date[href^="?day={busy_day}"]').click()
    assert f"day={busy_day}" in page.url, "the chosen day is kept in the address"
    check(page, "day-picker-2-times", width, javascript)
    times = page.locator("button.booking-slot")
    assert times.count() == len(slots_free(service=busy_diary, first_day=busy_day, days=1)) == 38
    first, second = times.nth(0).bounding_box(), times.nth(1).bounding_box()
    assert first["y"] == second["y"], "several times to a row"
    for box in (first, second):
        assert box["width"] >= 44 and box["height"] >= 44, "large enough to tap"

    # Another day, then a time: the questionnaire starts with that time.
    page.get_by_role("link", name="Choose another day").last.click()
    page.locator("a.booking-date").nth(3).click()
    chosen = page.locator("button.booking-slot").nth(5)
    key = chosen.get_attribute("value")
    chosen.click()
    assert "Book an appointment · part 1 of 3" in page.content()
    for step in SCREENING_STEPS:
        answer_step(page, step)
    assert "Your chosen time" in page.content()
    assert not Appointment.objects.exists()
    _, starts_at = slot_key_parse(key)
    assert timezone.localtime(starts_at).strftime("%H:%M") in page.content(), "the time chosen is the one shown"


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_day_that_cannot_be_shown_says_so_next_to_the_days(open_page, busy_diary, javascript):
    page = open_at(open_page, PHONE_WIDTH, javascript)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    page.goto(reverse("callbacks:booking_slots", kwargs={"service": busy_diary.pk}) + f"?day={yesterday}")
    assert page.get_by_role("alert").inner_text() == "That day has passed. Choose one of the days below."
    assert page.locator("a.booking-date").count() == days_with_free_times(busy_diary)
    if javascript:
        assert axe_violations(page) == []


def test_the_days_and_times_pages_are_valid_html(client, busy_diary, vnu, tmp_path):
    url = reverse("callbacks:booking_slots", kwargs={"service": busy_diary.pk})
    day = timezone.localdate() + dt.timedelta(days=2)
    documents = {}
    for name, query in {
        "days": "",
        "last week": "?week=3",
        "a bad day": "?day=nonsense",
        "times": f"?day={day}",
    }.items():
        response = client.get(url + query)
        assert response.status_code == 200, name
        documents[name] = response.content.decode()
    assert html_errors(documents, tmp_path) == {}


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_reschedule_link_uses_the_day_picker_on_pages_that_fit_two_screens(open_page, busy_diary, javascript):
    day = timezone.localdate() + dt.timedelta(days=2)
    own = slots_free(service=busy_diary, first_day=day, days=1)[0]
    appointment = book(busy_diary, Practitioner.objects.get(pk=own.practitioner_id), own.starts_at)
    page = open_at(open_page, PHONE_WIDTH, javascript)
    page.goto(reverse("callbacks:booking_reschedule", kwargs={"token": appointment_reschedule_token(appointment)}))
    check(page, "day-picker-reschedule-1-days", PHONE_WIDTH, javascript)
    assert f"{day.day} {day:%b} 36 free" in page.locator(f'a.booking-date[href="?day={day}"]').inner_text().replace(
        "\n", " "
    ), "the patient's own time (and its neighbour) are not free"
    page.locator(f'a.booking-date[href="?day={day}"]').click()
    check(page, "day-picker-reschedule-2-times", PHONE_WIDTH, javascript)
    page.locator("button.booking-slot").nth(10).click()
    page.get_by_role("button", name="Yes, move my appointment").wait_for()
    appointment.refresh_from_db()
    assert appointment.starts_at == own.starts_at, "choosing a time only asks"
