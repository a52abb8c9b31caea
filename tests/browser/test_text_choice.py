"""Issue 25's channel choice on the details page in a real browser, at 360 px and 1280 px, with and without
JavaScript: texts are offered ticked, with what they carry under the box; a patient who keeps them is texted, one
who unticks them is not; a number with a Relay UK prefix is accepted. No axe-core violation."""

import pytest
from django.urls import reverse

from callbacks.models import CallbackRequest
from callbacks.requests.consent import CURRENT_TEXT_CONSENT_VERSION, text_consent_label
from tests.browser.test_callback_journey import WIDTHS, fill_details
from tests.browser.test_patient_trust import JAVASCRIPT, to_details
from tests.browser.tools import axe_violations, screenshot
from tests.callbacks.web.test_forms import form_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", WIDTHS)
@JAVASCRIPT
def test_texts_are_offered_ticked_and_kept(open_page, width, javascript):
    page = open_page(width, javascript=javascript)
    to_details(page)
    box = page.get_by_label(text_consent_label())
    assert box.is_checked()
    assert "Reply STOP" in page.locator("#id_texts_helptext").inner_text()
    box.scroll_into_view_if_needed()
    screenshot(page, f"texts-choice-{'js' if javascript else 'nojs'}", width)
    if javascript:
        assert axe_violations(page) == []
    fill_details(page, form_data(phone="18001 07400 123456"))
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_url("**" + reverse("callbacks:done"))
    request = CallbackRequest.objects.get()
    assert (request.text_consent_version, request.phone_relay_prefix) == (CURRENT_TEXT_CONSENT_VERSION, "18001")
    assert request.notifications.filter(channel="sms", recipient="+447400123456").exists()


@pytest.mark.parametrize("width", WIDTHS)
@JAVASCRIPT
def test_a_patient_who_unticks_texts_is_not_texted_even_after_a_mistake(open_page, width, javascript):
    page = open_page(width, javascript=javascript)
    to_details(page)
    page.get_by_label(text_consent_label()).uncheck()
    fill_details(page, form_data(phone="12"))
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_load_state()
    # Sent back for the phone number: the choice is kept as the patient left it.
    assert not page.get_by_label(text_consent_label()).is_checked()
    if javascript:
        assert axe_violations(page) == []
    screenshot(page, f"texts-unticked-error-{'js' if javascript else 'nojs'}", width)
    page.get_by_label("Phone number").fill("07400 123456")
    page.locator('[name="consent"]').check()
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_url("**" + reverse("callbacks:done"))
    request = CallbackRequest.objects.get()
    assert request.text_consent_version == ""
    assert not request.notifications.filter(channel="sms").exists()
