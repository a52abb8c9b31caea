"""A safety question asked again, in a real browser: at phone and desktop width, with no accessibility
violation (axe-core) and valid HTML, on the details page (the reason box, before sending) and on its own page
after a later page of the questionnaire is saved."""

import re

import pytest
from django.urls import reverse

from callbacks.models import CallbackRequest, Priority
from tests.browser.test_callback_journey import WIDTHS, answer, check_page, fill_details
from tests.browser.tools import html_errors
from tests.callbacks.web.test_forms import form_data
from tests.support.questionnaire import NO_RED_FLAGS, PREPARE_STEPS, SCREENING_STEPS, step_data

WORDS = "my legs keep giving way"


def answer_no(page, name):
    """Answer "No" the way a patient does: by its visible label."""
    option = page.locator(f'[name="{name}"][value="no"]')
    page.locator(f'label[for="{option.get_attribute("id")}"]').click()
    assert option.is_checked()


def answer_steps(page, steps, overrides, button="Continue"):
    for step in steps:
        for key, value in {**NO_RED_FLAGS[step], **overrides.get(step, {})}.items():
            answer(page, key, value)
        page.get_by_role("button", name=button).click()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", WIDTHS)
def test_a_red_flag_in_free_text_is_asked_again_accessibly(open_page, width):
    page = open_page(width)
    page.goto(reverse("callbacks:request"))
    answer_steps(page, SCREENING_STEPS, {})
    assert "/your-details/" in page.url
    fill_details(page, form_data(reason="Also I can't feel my bum"))
    page.get_by_role("button", name="Send my request").click()
    assert "Before we send your request" in page.content()
    check_page(page, "recheck-1-details-reason", width)
    answer_no(page, "recheck_saddle_numbness")
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_url("**" + reverse("callbacks:done"))
    request = CallbackRequest.objects.get()
    assert request.priority == Priority.URGENT

    page.locator("#prepare-start").click()
    page.locator("#prepare-next").click()
    answer_steps(page, PREPARE_STEPS, {"treatment": {"anything_else": WORDS}}, button="Save and continue")
    assert "/a-quick-check/" in page.url
    assert f"You wrote \u2018{WORDS}\u2019." in page.content()
    check_page(page, "recheck-2-question", width)

    page.get_by_role("button", name="Continue").click()
    assert page.get_by_role("alert").first.is_visible()
    check_page(page, "recheck-3-unanswered", width)

    assert page.get_by_role("group", name=f"You wrote \u2018{WORDS}\u2019.").is_visible()
    answer_no(page, "recheck_both_legs")
    page.get_by_role("button", name="Continue").click()
    assert "that is everything" in page.content()
    request.questionnaire_response.refresh_from_db()
    assert request.questionnaire_response.rechecks == {"saddle_numbness": False, "both_legs": False}


@pytest.mark.browser
@pytest.mark.django_db
def test_the_pages_that_ask_again_are_valid_html(client, vnu, tmp_path):
    url = reverse("callbacks:request")
    for step in SCREENING_STEPS:
        url = client.post(url, step_data(NO_RED_FLAGS[step]))["Location"]
    documents = {"details asking about the reason": client.post(url, form_data(reason="Also I can't feel my bum"))}
    documents = {name: response.content.decode() for name, response in documents.items()}
    assert "recheck_saddle_numbness" in documents["details asking about the reason"]
    sent = client.post(url, form_data(reason="Back spasms"))
    link = re.search(r'id="prepare-start" href="([^"]+)"', client.get(sent["Location"]).content.decode()).group(1)
    documents["help us prepare"] = client.get(link).content.decode()
    check = client.post(f"{link}treatment/", step_data({**NO_RED_FLAGS["treatment"], "anything_else": WORDS}))
    documents["asked again"] = client.get(check["Location"]).content.decode()
    documents["asked again, unanswered"] = client.post(check["Location"], {}).content.decode()
    assert html_errors(documents, tmp_path) == {}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_urgent_and_emergency_advice_show_under_the_answer_at_once_and_asked_again_at_the_top_on_a_phone(open_page):
    """Issue 23: the urgent advice shows under its answer the moment it is chosen, like the emergency advice; a
    question asked again is at the top of the details page, as a question, with answers a thumb can hit (44 px),
    and a "yes" shows its advice at once."""
    page = open_page(360)
    page.goto(reverse("callbacks:request"))
    answer_steps(page, ["safety"], {})
    urgent = page.locator("#urgent-inline")
    assert urgent.is_hidden()
    answer(page, "fever", "yes")
    assert urgent.is_visible()
    # Right under the fever question, where the patient is looking.
    assert page.locator("#question-fever + #urgent-inline").count() == 1
    check_page(page, "urgent-inline", 360)
    answer(page, "fever", "no")
    assert urgent.is_hidden()
    for key, value in NO_RED_FLAGS["health"].items():
        answer(page, key, value)
    page.get_by_role("button", name="Continue").click()
    assert "/your-details/" in page.url
    fill_details(page, form_data(reason="Back spasms, and my legs keep giving way"))
    page.get_by_role("button", name="Send my request").click()
    group = page.get_by_role("group", name="Before we send your request")
    assert group.is_visible()
    # A question, not an error: no error summary, and it comes before the patient's details.
    assert page.locator("#error-summary").count() == 0
    top = group.bounding_box()["y"]
    assert top < page.get_by_role("group", name="About you").bounding_box()["y"]
    for value in ("yes", "no"):
        option = page.locator(f'[name="recheck_both_legs"][value="{value}"]')
        box = page.locator(f'label[for="{option.get_attribute("id")}"]').bounding_box()
        assert box["height"] >= 44, (value, box)
    emergency = page.locator("#emergency-inline")
    assert emergency.is_hidden()
    page.locator(
        'label[for="' + page.locator('[name="recheck_both_legs"][value="yes"]').get_attribute("id") + '"]'
    ).click()
    assert emergency.is_visible()
    check_page(page, "recheck-yes-emergency", 360)
