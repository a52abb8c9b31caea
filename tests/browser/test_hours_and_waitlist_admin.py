"""The admin pages of issue 16's waitlist and hours work in a real browser at 1280 px, with axe on each: the
front desk sees the waitlist (privacy-logged) and records a closure; a manager copies a day's hours."""

import datetime as dt

import pytest
from django.urls import reverse

from callbacks.models import ClinicClosure, PrivacyLogEntry, WorkingHours
from tests.browser.test_front_desk import PASSWORD, clinic_day, no_axe_violations, sign_in  # noqa: F401
from tests.browser.tools import DESKTOP_WIDTH, screenshot
from tests.callbacks.booking.test_waitlist import join
from tests.factories import UserFactory

# No serialized_rollback: `sign_in` builds the desk's group as its data migrations do (see test_front_desk.py).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_desk_sees_the_waitlist_and_records_a_closure(open_page, settings, clinic_day):  # noqa: F811
    service, practitioner, _, _ = clinic_day
    entry = join(service, 1, practitioner_id=practitioner.pk, weekdays="01")
    page, _ = sign_in(open_page, settings, DESKTOP_WIDTH)
    page.goto(reverse("admin:callbacks_waitlistentry_changelist"))
    assert entry.reference in page.content()
    screenshot(page, "admin-waitlist-list", DESKTOP_WIDTH)
    no_axe_violations(page, "waitlist list")
    page.get_by_role("link", name=entry.reference).click()
    page.get_by_text("waiting1@example.com").wait_for()
    screenshot(page, "admin-waitlist-entry", DESKTOP_WIDTH)
    no_axe_violations(page, "waitlist entry")
    assert PrivacyLogEntry.objects.filter(reference=entry.reference, action="viewed").count() == 1

    page.goto(reverse("admin:callbacks_clinicclosure_changelist"))
    assert "Christmas Day" in page.content() or not settings.CLINIC_HOLIDAYS_COUNTRY
    no_axe_violations(page, "closures list")
    page.goto(reverse("admin:callbacks_clinicclosure_add"))
    page.get_by_label("Closed from").fill("2027-02-10")
    page.get_by_label("Closed until").fill("2027-02-11")
    page.get_by_label("Reason").fill("Staff training")
    no_axe_violations(page, "closure form")
    page.locator('input[name="_save"]').click()
    page.wait_for_url("**" + reverse("admin:callbacks_clinicclosure_changelist"))
    closure = ClinicClosure.objects.get()
    assert (closure.first_day, closure.last_day) == (dt.date(2027, 2, 10), dt.date(2027, 2, 11))


def test_a_manager_copies_mondays_hours_to_the_week(open_page, settings, clinic_day):  # noqa: F811
    _, practitioner, _, _ = clinic_day
    WorkingHours.objects.filter(practitioner=practitioner).exclude(weekday=0).delete()
    settings.ADMIN_REQUIRE_2FA = False
    UserFactory(username="manager", is_superuser=True)
    page = open_page(DESKTOP_WIDTH)
    page.goto(reverse("admin:callbacks_practitioner_change", args=[practitioner.pk]))
    page.get_by_label("Username").fill("manager")
    page.get_by_label("Password").fill(PASSWORD)
    page.locator('input[type="submit"]').first.click()
    page.get_by_role("link", name="Copy a day's hours to other days").click()
    page.get_by_role("button", name="Copy the hours").wait_for()
    screenshot(page, "admin-copy-hours", DESKTOP_WIDTH)
    no_axe_violations(page, "copy hours")
    page.get_by_role("button", name="Copy the hours").click()  # Monday to Tuesday-Friday, the defaults
    page.get_by_text("Monday's hours copied to Tuesday, Wednesday, Thursday, Friday").wait_for()
    assert sorted(WorkingHours.objects.filter(practitioner=practitioner).values_list("weekday", flat=True)) == [
        0,
        1,
        2,
        3,
        4,
    ]
