"""An outcome follow-up in a real browser, at phone and desktop width, with no accessibility violation
(axe-core): the questions, a mistake shown next to its field, the thanks, then stopping the e-mails."""

import pytest

from callbacks.models import CallbackRequest, FollowUp
from callbacks.requests.followup_links import follow_up_answer_path
from tests.browser.test_callback_journey import WIDTHS, answer, check_page
from tests.callbacks.web.test_follow_up import ANSWERS
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
