"""Article pages in a real browser at phone width: nothing blocked by the CSP, nothing wider than the screen."""

import pytest
from django.urls import reverse

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone_page(chromium):
    """A 360 px page in the run's shared browser (tests/conftest.py) that records console and loading problems."""
    page = chromium.new_page(viewport={"width": 360, "height": 740})
    page.console_problems = []
    page.failed_requests = []
    page.on(
        "console",
        lambda message: (
            message.type in {"error", "warning"}
            and not message.text.startswith("Failed to load resource")  # reported below, with the address
            and page.console_problems.append(message.text)
        ),
    )
    page.on(
        "response",
        lambda response: response.status >= 400 and page.failed_requests.append(f"{response.status} {response.url}"),
    )
    yield page
    page.close()


@pytest.mark.parametrize(
    "path",
    [
        reverse("home"),
        reverse("article_list"),
        reverse("article_detail", kwargs={"slug": "stretches-and-exercises-for-back-spasms"}),
        reverse("article_detail", kwargs={"slug": "when-to-get-help-for-back-pain"}),
        reverse("article_search") + "?q=heat",
    ],
)
def test_page_fits_a_phone_and_nothing_is_blocked(live_server, articles, phone_page, path):
    response = phone_page.goto(live_server.url + path, wait_until="load")
    assert response.status == 200
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 360
    broken_images = phone_page.evaluate(
        "Array.from(document.images).filter(image => !image.complete || image.naturalWidth === 0).map(i => i.src)"
    )
    assert broken_images == []
    assert phone_page.failed_requests == []
    # A CSP violation (an inline script or style, the JSON-LD block run as script) is reported on the console.
    assert phone_page.console_problems == []


def test_the_emergency_banner_is_on_the_first_screen(live_server, articles, phone_page):
    phone_page.goto(live_server.url + reverse("article_detail", kwargs={"slug": "when-to-get-help-for-back-pain"}))
    banner = phone_page.locator(".emergency-banner").bounding_box()
    assert banner is not None
    assert banner["y"] < 740


def test_the_illustrations_are_drawn(live_server, articles, phone_page):
    phone_page.goto(
        live_server.url + reverse("article_detail", kwargs={"slug": "stretches-and-exercises-for-back-spasms"}),
        wait_until="load",
    )
    sizes = phone_page.evaluate("Array.from(document.images).map(image => [image.naturalWidth, image.width])")
    assert len(sizes) == 9
    for natural_width, shown_width in sizes:
        assert natural_width > 0
        assert 200 <= shown_width <= 400
