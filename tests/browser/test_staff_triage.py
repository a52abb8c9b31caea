"""A member of staff signs in with a password and an authenticator code, finds an urgent request in the queue,
and works it: assigns it, logs the call, and sees everything on the request's history."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from callbacks.models import CallbackRequest, Priority, RequestEvent
from tests.browser.test_callback_journey import answer, answer_step, fill_details
from tests.browser.tools import DESKTOP_WIDTH, PHONE_WIDTH, screenshot
from tests.callbacks.web.test_forms import form_data
from tests.factories import CallbackRequestFactory, UserFactory
from tests.support.questionnaire import NO_RED_FLAGS, SCREENING_STEPS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery staple"


def urgent_request_from_a_patient(open_page):
    """A patient with a fever sends a request through the site, as in the callback journey."""
    page = open_page(DESKTOP_WIDTH)
    page.goto(reverse("callbacks:request"))
    for step in SCREENING_STEPS:
        if step == "health":
            for key, value in {**NO_RED_FLAGS["health"], "fever": "yes"}.items():
                answer(page, key, value)
            page.get_by_role("button", name="Continue").click()
        else:
            answer_step(page, step)
    fill_details(page, form_data(name="Sam Urgentcase", phone="07400 555123"))
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_url("**" + reverse("callbacks:done"))
    page.context.close()
    return CallbackRequest.objects.get(name="Sam Urgentcase")


@pytest.mark.parametrize("width", [PHONE_WIDTH, DESKTOP_WIDTH])
def test_staff_sign_in_with_two_factors_and_work_an_urgent_request(open_page, settings, width):
    settings.ADMIN_REQUIRE_2FA = True
    urgent = urgent_request_from_a_patient(open_page)
    assert urgent.priority == Priority.URGENT
    now = timezone.now()
    for n, priority in enumerate([Priority.ROUTINE, Priority.REVIEW, Priority.ROUTINE, Priority.EMERGENCY]):
        CallbackRequestFactory(priority=priority, deadline=now + dt.timedelta(hours=n - 1))
    staff = UserFactory(username="jo.triage", is_superuser=True, first_name="Jo", last_name="Triage")
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)

    page = open_page(width)
    page.goto("/" + settings.ADMIN_URL_PATH)
    page.get_by_label("Username").fill("jo.triage")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Code from your authenticator app").fill(
        f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"
    )
    page.get_by_role("button", name="Log in").or_(page.locator('input[type="submit"]')).first.click()
    page.wait_for_url("**/" + settings.ADMIN_URL_PATH)
    screenshot(page, "staff-1-admin-home", width)
    assert page.locator("svg").count() >= 1, "the requests-per-day chart"

    page.goto(reverse("admin:callbacks_callbackrequest_changelist"))
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 5
    assert "Emergency" in rows.nth(0).inner_text(), "the most urgent first"
    assert urgent.reference in rows.nth(1).inner_text()
    screenshot(page, "staff-2-queue", width)

    # Staff type the number as the patient said it.
    page.locator("#searchbar").fill("07400 555 123")
    page.locator("#searchbar").press("Enter")
    page.wait_for_load_state()
    assert page.locator("#result_list tbody tr").count() == 1
    page.get_by_role("link", name=urgent.reference).click()
    page.wait_for_url(re.compile(rf"/{urgent.pk}/change/"))
    page.wait_for_load_state()
    body = page.locator("#content").inner_text()
    assert "high temperature" in body.lower(), "the triage reason is on the request page"
    screenshot(page, "staff-3-request", width)

    page.locator('input[type="submit"][value="Assign to me"]').click()
    page.wait_for_load_state()
    page.get_by_label("Reached the patient").check()
    page.locator('[name="call-note"]').fill("Advised to see the GP today; booked assessment next week.")
    page.locator('input[type="submit"][value="Log call"]').click()
    page.wait_for_load_state()
    screenshot(page, "staff-4-request-after-call", width)

    urgent.refresh_from_db()
    assert urgent.assigned_to == staff
    assert urgent.call_attempts.get().outcome == "reached"
    actions = set(RequestEvent.objects.filter(request=urgent).values_list("action", flat=True))
    assert {"assigned", "call"} <= actions
    assert "Reached the patient" in page.locator("body").inner_text()
