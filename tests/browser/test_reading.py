"""A patient arrives in pain, reads about back spasms and finds the way to ask for help."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from clinic.models import Article
from tests.browser.tools import DESKTOP_WIDTH, PHONE_WIDTH, axe_violations, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDTHS = [PHONE_WIDTH, DESKTOP_WIDTH]


@pytest.fixture
def articles():
    call_command("load_articles", verbosity=0)
    return list(Article.objects.published().order_by("order"))


@pytest.mark.parametrize("width", WIDTHS)
def test_a_patient_reads_an_article_then_reaches_the_callback_form(open_page, articles, width):
    page = open_page(width)
    page.goto("/")
    screenshot(page, "reading-1-home", width)
    assert axe_violations(page) == []

    page.get_by_role("link", name="Articles", exact=True).first.click()
    page.wait_for_url("**" + reverse("article_list"))
    screenshot(page, "reading-2-article-list", width)
    assert axe_violations(page) == []

    stretches = next(article for article in articles if "stretch" in article.slug)
    page.get_by_role("link", name=stretches.title).first.click()
    page.wait_for_url("**" + stretches.get_absolute_url())
    assert page.get_by_role("heading", level=1).inner_text() == stretches.title
    assert page.locator("img, svg").count() > 0, "the stretches are illustrated"
    screenshot(page, "reading-3-article", width)
    assert axe_violations(page) == []

    page.locator(f'main a[href="{reverse("callbacks:request")}"]').first.click()
    page.wait_for_url("**" + reverse("callbacks:request"))
    screenshot(page, "reading-4-request-form", width)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_emergency_article_shows_its_banner_and_every_page_has_no_accessibility_violation(
    open_page, articles, width
):
    page = open_page(width)
    checked = []
    for article in articles:
        page.goto(article.get_absolute_url())
        assert axe_violations(page) == [], article.slug
        checked.append(article.slug)
        if article.emergency_banner:
            banner = page.get_by_role("alert").or_(page.locator(".emergency-banner")).first
            assert banner.is_visible()
            screenshot(page, "reading-emergency-article", width)
    for path in (reverse("article_search") + "?q=heat", reverse("article_search") + "?q=zzzznothing"):
        page.goto(path)
        assert axe_violations(page) == [], path
    assert len(checked) >= 6
