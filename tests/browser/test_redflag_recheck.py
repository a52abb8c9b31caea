"""A safety question asked again, in a real browser: at phone and desktop width, with no accessibility
violation (axe-core) and valid HTML, on its own page and on the details page."""

import pytest
from django.urls import reverse

from callbacks.models import CallbackRequest, Priority
from tests.browser.test_callback_journey import WIDTHS, answer, check_page, fill_details
from tests.browser.tools import html_errors
from tests.callbacks.web.test_forms import form_data
from tests.support.questionnaire import NO_RED_FLAGS, STEPS, step_data

WORDS = "my legs keep giving way"


def answer_no(page, name):
    """Answer "No" the way a patient does: by its visible label."""
    option = page.locator(f'[name="{name}"][value="no"]')
    page.locator(f'label[for="{option.get_attribute("id")}"]').click()
    assert option.is_checked()


def answer_all(page, overrides):
    for step in STEPS:
        for key, value in {**NO_RED_FLAGS[step], **overrides.get(step, {})}.items():
            answer(page, key, value)
        page.get_by_role("button", name="Continue").click()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", WIDTHS)
def test_a_red_flag_in_free_text_is_asked_again_accessibly_before_the_details(open_page, width):
    page = open_page(width)
    page.goto(reverse("callbacks:request"))
    answer_all(page, {"treatment": {"anything_else": WORDS}})
    assert "/before-you-send/" in page.url
    assert f"You wrote \u2018{WORDS}\u2019." in page.content()
    check_page(page, "recheck-1-question", width)

    page.get_by_role("button", name="Continue").click()
    assert page.get_by_role("alert").first.is_visible()
    check_page(page, "recheck-2-unanswered", width)

    assert page.get_by_role("group", name=f"You wrote \u2018{WORDS}\u2019.").is_visible()
    answer_no(page, "recheck_both_legs")
    page.get_by_role("button", name="Continue").click()
    assert "/your-details/" in page.url

    fill_details(page, form_data(reason="Also I can't feel my bum"))
    page.get_by_role("button", name="Send my request").click()
    assert "Before we send your request" in page.content()
    check_page(page, "recheck-3-details-reason", width)
    answer_no(page, "recheck_saddle_numbness")
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_url("**" + reverse("callbacks:done"))
    request = CallbackRequest.objects.get()
    assert request.priority == Priority.URGENT


@pytest.mark.browser
@pytest.mark.django_db
def test_the_pages_that_ask_again_are_valid_html(client, vnu, tmp_path):
    url = reverse("callbacks:request")
    overrides = {"treatment": {"anything_else": WORDS}}
    for step in STEPS:
        url = client.post(url, step_data({**NO_RED_FLAGS[step], **overrides.get(step, {})}))["Location"]
    documents = {"asked again": client.get(url).content.decode()}
    documents["asked again, unanswered"] = client.post(url, {}).content.decode()
    details = client.post(url, {"recheck_both_legs": "no"})["Location"]
    documents["details asking about the reason"] = client.post(
        details, form_data(reason="Also I can't feel my bum")
    ).content.decode()
    assert "recheck_saddle_numbness" in documents["details asking about the reason"]
    assert html_errors(documents, tmp_path) == {}
