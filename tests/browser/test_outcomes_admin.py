"""Scores over time and the outcome report in a real browser at 1280 and 360 px, with axe on each page."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.browser.test_front_desk import no_axe_violations, sign_in
from tests.browser.tools import DESKTOP_WIDTH, PHONE_WIDTH, screenshot
from tests.callbacks.admin.test_outcome_report import scored_patient
from tests.callbacks.requests.test_outcomes import clinic_dataset  # noqa: F401 - a fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [DESKTOP_WIDTH, PHONE_WIDTH])
def test_scores_and_report_read_well_at_both_widths(open_page, settings, clinic_dataset, width):  # noqa: F811
    patient = scored_patient({2: {"pain": 6, "worst": 7, "psfs": (4,), "change": "better"}, 6: {"pain": 3}, 12: None})
    page, staff = sign_in(open_page, settings, width)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_outcome_report", "export_callbackrequest"])
    )
    page.goto(reverse("admin:callbacks_callbackrequest_change", args=[patient.pk]))
    page.get_by_role("heading", name="Scores over time").wait_for()
    assert page.get_by_role("img", name="Pain now (0-10)").count() == 1
    page.get_by_text("The same scores as a table").click()
    page.locator("#scores").scroll_into_view_if_needed()
    screenshot(page, "admin-scores-over-time", width)
    no_axe_violations(page, "a request with scores over time")

    page.goto(reverse("admin:index"))
    page.get_by_role("link", name="Outcome report").click()
    page.get_by_role("heading", name="All patients").wait_for()
    screenshot(page, "admin-outcome-report", width)
    no_axe_violations(page, "outcome report")
    page.locator("#id_date_from").fill("2026-05-10")
    page.locator("#id_date_to").fill("2026-05-01")
    page.get_by_role("button", name="Show the report").click()
    page.get_by_text("The last day cannot be before the first day.").wait_for()
    no_axe_violations(page, "outcome report with an error")
