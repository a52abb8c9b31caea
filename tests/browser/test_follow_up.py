"""An outcome follow-up in a real browser, at phone and desktop width, with no accessibility violation
(axe-core): the questions, a mistake shown next to its field, the thanks, then stopping the e-mails."""

import pytest

from callbacks.models import CallbackRequest, FollowUp, Priority
from callbacks.requests.followup_links import follow_up_answer_path
from tests.browser.test_callback_journey import PHONE_WIDTH, WIDTHS, answer, check_page
from tests.callbacks.web.test_follow_up import ANSWERS, WET
from tests.factories import FollowUpFactory


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", WIDTHS)
def test_a_patient_answers_a_follow_up_and_stops_the_emails_accessibly(open_page, width):
    follow_up = FollowUpFactory()
    page = open_page(width)
    page.goto(follow_up_answer_path(follow_up))
    check_page(page, "follow-up-1-questions", width)

    for key, value in ANSWERS.items():
        if key not in ("pain_now", "psfs_activity_2", "psfs_rating_2"):
            answer(page, key, value)
    page.get_by_role("button", name="Send my answers").click()
    assert page.get_by_role("alert").first.is_visible()
    assert page.locator("#id_q-pain_now-error").is_visible()
    check_page(page, "follow-up-2-with-errors", width)

    answer(page, "pain_now", "3")
    page.get_by_role("button", name="Send my answers").click()
    assert "your answers have reached the clinic" in page.content()
    check_page(page, "follow-up-3-thanks", width)
    assert FollowUp.objects.get(pk=follow_up.pk).status == FollowUp.Status.ANSWERED

    page.get_by_role("link", name="Stop the follow-up e-mails").click()
    check_page(page, "follow-up-4-stop", width)
    assert CallbackRequest.objects.get(pk=follow_up.request_id).follow_ups_stopped_at is None
    page.get_by_role("button", name="Yes, stop these e-mails").click()
    assert "The follow-up e-mails are stopped" in page.content()
    assert CallbackRequest.objects.get(pk=follow_up.request_id).follow_ups_stopped_at is not None


def on_a_phone(open_page):
    """A sent follow-up, and a phone-width page open at its link."""
    follow_up = FollowUpFactory()
    page = open_page(PHONE_WIDTH)
    page.goto(follow_up_answer_path(follow_up))
    return follow_up, page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_yes_to_an_emergency_question_shows_the_advice_at_once_on_a_phone(open_page, settings):
    follow_up, page = on_a_phone(open_page)
    advice = page.locator("#emergency-inline")
    assert not advice.is_visible()
    answer(page, "saddle_numbness", "yes")
    # At once, before anything is sent, next to the answer that calls for it.
    assert advice.is_visible()
    assert settings.CLINIC_EMERGENCY_NUMBER in advice.inner_text()
    assert page.locator("[data-question='saddle_numbness'] + #emergency-inline").count() == 1
    check_page(page, "follow-up-emergency-inline", PHONE_WIDTH)
    # Hiding it again on "no" is the shared script's, tested on the intake pages. The rest of the page is left
    # empty: sending it still stores the answer and shows the advice.
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_url("**/how-is-your-back/thank-you/")
    assert settings.CLINIC_EMERGENCY_NUMBER in page.content()
    assert CallbackRequest.objects.get(pk=follow_up.request_id).priority == Priority.EMERGENCY


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_red_flag_in_an_activity_is_asked_again_quoting_it_and_yes_gives_the_emergency_advice(open_page, settings):
    follow_up, page = on_a_phone(open_page)
    for key, value in {**ANSWERS, "psfs_activity_1": WET}.items():
        if key not in ("psfs_activity_2", "psfs_rating_2"):
            answer(page, key, value)
    page.get_by_role("button", name="Send my answers").click()
    asked = page.locator("section[aria-labelledby='section-recheck']")
    assert asked.is_visible() and "wet myself" in asked.inner_text()
    check_page(page, "follow-up-asked-again", PHONE_WIDTH)
    assert FollowUp.objects.get(pk=follow_up.pk).status == FollowUp.Status.SENT
    page.locator("label[for='id_recheck_bladder_bowel_control_0']").click()
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_url("**/how-is-your-back/thank-you/")
    assert settings.CLINIC_EMERGENCY_NUMBER in page.content()
    check_page(page, "follow-up-asked-again-emergency", PHONE_WIDTH)
    assert CallbackRequest.objects.get(pk=follow_up.request_id).priority == Priority.EMERGENCY
