"""The public pages on a 360 px phone (issue 24): the header is one line, and the phone keyboard's Go key (Enter)
sends the details form rather than pressing its secondary "Show the times for this day" button."""

import pytest
from django.urls import reverse

from callbacks.models import CallbackRequest, Practitioner, Service
from clinic.articles.loading import ARTICLES_DIR, articles_load_from_folder
from tests.browser.test_callback_journey import answer_step, fill_details
from tests.browser.tools import PHONE_WIDTH, axe_violations, screenshot
from tests.callbacks.web.test_forms import form_data
from tests.support.questionnaire import SCREENING_STEPS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("javascript", [True, False])
def test_the_header_is_one_line_at_most_64_px_high_on_every_public_page(open_page, javascript):
    articles_load_from_folder(ARTICLES_DIR)
    from clinic.models import Article

    # Online booking on: the header's longest set of links.
    Practitioner.objects.create(name="Sam Physio").services.add(
        Service.objects.create(name="Initial assessment", duration_minutes=45)
    )

    page = open_page(PHONE_WIDTH, javascript=javascript)
    urls = [
        reverse("home"),
        reverse("article_list"),
        Article.objects.order_by("order").first().get_absolute_url(),
        reverse("callbacks:request"),
        reverse("callbacks:booking_services"),
        reverse("callbacks:privacy"),
    ]
    for url in urls:
        page.goto(url)
        height = page.locator("header.site-header").bounding_box()["height"]
        assert height <= 64, (url, height)
        assert page.locator("header.site-header a").count() == 4, url
        # Every link of the header is still there and on screen.
        for link in page.locator("header.site-header a").all():
            box = link.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH, (url, link.inner_text())
        if javascript:
            assert axe_violations(page) == [], url
    screenshot(page, f"header-{'js' if javascript else 'nojs'}", PHONE_WIDTH)


def test_enter_in_the_phone_field_sends_the_details_and_gives_a_reference(open_page):
    page = open_page(PHONE_WIDTH)
    page.goto(reverse("callbacks:request"))
    for step in SCREENING_STEPS:
        answer_step(page, step)
        page.wait_for_load_state()
    assert "/your-details/" in page.url
    fill_details(page, form_data(reason=""))
    # The hidden default copy of the send button leaves the page axe-clean.
    assert axe_violations(page) == []
    page.get_by_label("Phone number").press("Enter")
    page.wait_for_url("**/thank-you/**")
    assert page.locator("#reference").inner_text() == CallbackRequest.objects.get().reference
