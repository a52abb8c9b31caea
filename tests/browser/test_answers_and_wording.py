"""Issue 24, items 7 and 9 in a real browser, at phone and desktop width, with and without JavaScript: the error
summary is focused as the page loads and an invalid e-mail is told once; a finished request's link shows what
was sent, read-only, with a tap-to-call number; no accessibility violation (axe-core), valid HTML."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from callbacks.models import CallbackRequest
from callbacks.requests.email_address import EMAIL_NOT_PUBLIC_MESSAGE
from tests.browser.test_callback_journey import WIDTHS, check_page, fill_details
from tests.browser.test_redflag_recheck import answer_steps
from tests.browser.tools import html_errors, screenshot
from tests.callbacks.web.test_forms import form_data
from tests.support.questionnaire import NO_RED_FLAGS, SCREENING_STEPS, step_data


def focused_id(page) -> str:
    # Read through a locator: evaluate() never answers with JavaScript off.
    return page.locator(":focus").get_attribute("id") or ""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("width", WIDTHS)
def test_an_invalid_e_mail_is_told_once_in_a_summary_focused_on_load(open_page, width, javascript):
    page = open_page(width, javascript=javascript)
    page.goto(reverse("callbacks:request"))
    answer_steps(page, SCREENING_STEPS, {})
    assert "/your-details/" in page.url
    fill_details(page, form_data())
    page.get_by_label("E-mail (optional)").fill("alex@localhost")
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_load_state()
    summary = page.locator("#error-summary")
    assert summary.is_visible()
    assert summary.get_by_role("heading").inner_text() == "There is a problem"
    assert focused_id(page) == "error-summary", "the summary is where the patient's attention goes on load"
    assert page.get_by_text(EMAIL_NOT_PUBLIC_MESSAGE).count() == 2  # in the summary, and once beside the box
    assert not CallbackRequest.objects.exists()
    if javascript:
        check_page(page, "wording-email-once", width)
    else:  # axe-core is a script: it cannot run in a page without JavaScript
        screenshot(page, "wording-email-once-no-javascript", width)


def send_and_finish(status: str) -> str:
    """A request sent with one later part answered, then finished by the clinic; the link to its questions."""
    client = Client()
    url = reverse("callbacks:request")
    for step in SCREENING_STEPS:
        url = client.post(url, step_data(NO_RED_FLAGS[step]))["Location"]
    sent = client.post(url, form_data())
    link = re.search(r'id="prepare-start" href="([^"]+)"', client.get(sent["Location"]).content.decode()).group(1)
    client.post(f"{link}where/", step_data(NO_RED_FLAGS["where"]))
    outcome = "advice" if status == CallbackRequest.Status.CLOSED else ""
    CallbackRequest.objects.update(status=status, outcome=outcome)
    return link


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", WIDTHS)
def test_a_finished_requests_link_shows_what_was_sent_and_offers_a_call(open_page, width, settings):
    settings.CLINIC_PHONE = "020 7946 0000"
    link = send_and_finish(CallbackRequest.Status.CLOSED)
    page = open_page(width)
    page.goto(link)
    assert page.get_by_role("heading", level=1).inner_text() == "Your answers have been sent"
    assert page.locator("#answers-sent-on").inner_text().startswith("You sent these answers on ")
    call = page.locator("#answers-sent-on a[href^='tel:']")
    assert call.get_attribute("href") == "tel:+442079460000"
    assert "Where it hurts" in page.locator("#parts-sent").inner_text()
    assert page.locator("main form").count() == 0
    check_page(page, "finished-link", width)

    # A part's address kept from before leads back here, changing nothing.
    page.goto(f"{link}when/")
    assert page.url.endswith(link)


@pytest.mark.browser
@pytest.mark.django_db
def test_the_finished_link_and_the_consent_hint_are_valid_html(client, vnu, tmp_path):
    url = reverse("callbacks:request")
    for step in SCREENING_STEPS:
        url = client.post(url, step_data(NO_RED_FLAGS[step]))["Location"]
    documents = {"details with the consent hint": client.get(url)}
    documents["details, invalid e-mail"] = client.post(url, form_data(email="alex@"))
    sent = client.post(url, form_data())
    link = re.search(r'id="prepare-start" href="([^"]+)"', client.get(sent["Location"]).content.decode()).group(1)
    client.post(f"{link}where/", step_data(NO_RED_FLAGS["where"]))
    documents["part sent before"] = client.get(f"{link}where/")
    CallbackRequest.objects.update(status=CallbackRequest.Status.CONTACTED)
    documents["finished link"] = client.get(link)
    pages = {name: response.content.decode() for name, response in documents.items()}
    assert "You have already sent this part." in pages["part sent before"]
    assert "You sent these answers on" in pages["finished link"]
    assert html_errors(pages, tmp_path) == {}
