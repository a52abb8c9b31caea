"""Issue 24's patient-facing promises in a real browser, at 360 px and 1280 px, with and without JavaScript:
Back and refresh after sending show what was sent (never "start again", never a second request), the phone
keyboard's Go key (Enter) sends, and every emergency, urgent-advice and clinic number can be tapped to call."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from callbacks.models import CallbackRequest
from tests.browser.test_callback_journey import WIDTHS, answer, answer_step, fill_details
from tests.browser.tools import axe_violations, screenshot
from tests.callbacks.web.test_forms import form_data
from tests.support.questionnaire import NO_RED_FLAGS, SCREENING_STEPS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
JAVASCRIPT = pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
RESTART = "Please start again"


def to_details(page):
    page.goto(reverse("callbacks:request"))
    for step in SCREENING_STEPS:
        answer_step(page, step)
        page.wait_for_load_state()
    assert "/your-details/" in page.url


def numbers_not_linked(page) -> list[str]:
    """Each emergency, urgent-advice or clinic number in the page's visible text that is not inside a tel: link.
    Read through locators, which answer with JavaScript off too."""
    numbers = {settings.CLINIC_EMERGENCY_NUMBER, settings.CLINIC_URGENT_ADVICE_NUMBER, settings.CLINIC_PHONE}
    pattern = re.compile(
        r"(?<![\w+])(" + "|".join(re.escape(n) for n in sorted(numbers, key=len, reverse=True)) + r")(?!\w)"
    )
    body = page.locator("main").inner_text()
    linked = " ".join(link.inner_text() for link in page.locator('main a[href^="tel:"]').all())
    found = pattern.findall(body)
    linked_found = pattern.findall(linked)
    missing = list(found)
    for number in linked_found:
        if number in missing:
            missing.remove(number)
    return missing


@pytest.mark.parametrize("width", WIDTHS)
@JAVASCRIPT
def test_back_and_refresh_after_sending_show_the_reference_and_store_nothing_more(open_page, width, javascript):
    page = open_page(width, javascript=javascript)
    to_details(page)
    fill_details(page, form_data())
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_url("**" + reverse("callbacks:done"))
    reference = CallbackRequest.objects.get().reference

    for _ in range(2):
        page.go_back()
        page.wait_for_load_state()
        page.reload()  # whatever the browser kept, the server's answer for this address
        page.wait_for_load_state()
        assert reference in page.locator("main").inner_text(), page.url
        assert RESTART not in page.content()
    page.reload()
    assert reference in page.locator("main").inner_text()
    if javascript:
        assert axe_violations(page) == []
    screenshot(page, f"trust-back-after-send-{'js' if javascript else 'nojs'}", width)
    assert CallbackRequest.objects.count() == 1


@pytest.mark.parametrize("width", WIDTHS)
@JAVASCRIPT
def test_enter_in_the_phone_field_sends(open_page, width, javascript):
    page = open_page(width, javascript=javascript)
    to_details(page)
    fill_details(page, form_data(reason=""))
    page.get_by_label("Phone number").press("Enter")
    page.wait_for_url("**" + reverse("callbacks:done"))
    assert page.locator("#reference").inner_text() == CallbackRequest.objects.get().reference


@pytest.mark.parametrize("width", WIDTHS)
@JAVASCRIPT
def test_every_number_on_the_patient_pages_is_a_tel_link(open_page, width, javascript):
    page = open_page(width, javascript=javascript)
    page.goto(reverse("home"))
    assert numbers_not_linked(page) == [], "home"
    assert page.locator(f'main a[href="tel:{settings.CLINIC_EMERGENCY_NUMBER}"]').count() >= 1

    page.goto(reverse("callbacks:request"))
    answer(page, "saddle_numbness", "yes")
    if javascript:
        # The inline advice appears at once, with a large button that calls the emergency number.
        call = page.get_by_role("link", name=f"Call {settings.CLINIC_EMERGENCY_NUMBER}", exact=True)
        call.first.wait_for(state="visible")
        box = call.first.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 100, box
        assert call.first.get_attribute("href") == f"tel:{settings.CLINIC_EMERGENCY_NUMBER}"
    else:
        for key, value in NO_RED_FLAGS["safety"].items():
            if key != "saddle_numbness":
                answer(page, key, value)
        page.get_by_role("button", name="Continue").click()
        page.wait_for_load_state()
        assert "get-help-now" in page.url
    assert numbers_not_linked(page) == [], page.url
    screenshot(page, f"trust-tel-emergency-{'js' if javascript else 'nojs'}", width)

    # An urgent answer's advice, then the reference page's boxes.
    page.goto(reverse("callbacks:request"))
    answer_step(page, "safety")
    for key, value in NO_RED_FLAGS["health"].items():
        answer(page, key, "yes" if key == "fever" else value)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()
    assert numbers_not_linked(page) == [], page.url
    assert page.locator(f'main a[href="tel:{settings.CLINIC_URGENT_ADVICE_NUMBER}"]').count() >= 1
    fill_details(page, form_data())
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_url("**" + reverse("callbacks:done"))
    assert numbers_not_linked(page) == [], "done"
    hrefs = {link.get_attribute("href") for link in page.locator('main a[href^="tel:"]').all()}
    assert {f"tel:{settings.CLINIC_EMERGENCY_NUMBER}", f"tel:{settings.CLINIC_URGENT_ADVICE_NUMBER}"} <= hrefs
    if javascript:
        assert axe_violations(page) == []
