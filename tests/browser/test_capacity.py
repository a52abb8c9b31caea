"""Online requests closed, full, and a patient's place kept through the grace period, in a real browser at 360
px and 1280 px, with and without JavaScript: the notice before typing, the safety questions still asked, the page
that says when to come back and whom to call, each page clean under axe."""

import pytest
from django.urls import reverse

from callbacks.models import CallbackRequest
from tests.browser.test_callback_journey import WIDTHS, answer_step, fill_details
from tests.browser.tools import axe_violations, screenshot
from tests.callbacks.web.test_capacity import PAUSE_REASON, fill_today, pause
from tests.callbacks.web.test_forms import form_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
JAVASCRIPT = pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])


def check_page(page, what, width, javascript):
    screenshot(page, f"capacity-{what}-{'js' if javascript else 'nojs'}", width)
    # Read through a locator, which answers with JavaScript off too: no sideways scrolling.
    assert page.locator("main").bounding_box()["width"] <= width
    if javascript:  # axe runs in the page, so only with JavaScript on (the HTML is the same without it)
        assert axe_violations(page) == [], what


@JAVASCRIPT
@pytest.mark.parametrize("width", WIDTHS)
def test_a_paused_form_says_so_first_asks_the_safety_questions_and_then_says_when_to_come_back(
    open_page, settings, width, javascript
):
    pause()
    page = open_page(width, javascript=javascript)
    page.goto(reverse("callbacks:request"))
    notice = page.locator("#capacity-notice")
    assert notice.get_by_role("heading", name="Online requests are paused for now").is_visible()
    assert PAUSE_REASON in notice.inner_text()
    assert notice.get_by_role("link", name=settings.CLINIC_PHONE).get_attribute("href") == "tel:+442079460000"
    check_page(page, "paused-start", width, javascript)
    answer_step(page, "safety")
    answer_step(page, "health")
    assert page.get_by_role("heading", level=1).inner_text() == "Online requests are paused for now"
    assert page.locator("#capacity-opens").is_visible()
    main = page.locator("#main")
    assert main.get_by_role("link", name=settings.CLINIC_PHONE).get_attribute("href") == "tel:+442079460000"
    assert main.get_by_role("link", name="111").get_attribute("href") == "tel:111"
    assert main.get_by_role("link", name="999").get_attribute("href") == "tel:999"
    check_page(page, "paused-closed-page", width, javascript)
    assert CallbackRequest.objects.count() == 0


@JAVASCRIPT
@pytest.mark.parametrize("width", WIDTHS)
def test_a_full_day_says_so_before_typing(open_page, width, javascript):
    fill_today()
    page = open_page(width, javascript=javascript)
    page.goto(reverse("callbacks:request"))
    assert page.get_by_role("heading", name="We have no more online places today").is_visible()
    check_page(page, "full-start", width, javascript)


@JAVASCRIPT
@pytest.mark.parametrize("width", WIDTHS)
def test_a_patient_typing_when_the_day_fills_still_sends(open_page, width, javascript):
    page = open_page(width, javascript=javascript)
    page.goto(reverse("callbacks:request"))
    answer_step(page, "safety")
    answer_step(page, "health")
    fill_today()
    page.reload()
    assert page.locator("#capacity-notice").count() == 0
    check_page(page, "grace-details", width, javascript)
    fill_details(page, form_data())
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_url(f"**{reverse('callbacks:done')}")
    assert page.locator("#reference").inner_text() == CallbackRequest.objects.get().reference
