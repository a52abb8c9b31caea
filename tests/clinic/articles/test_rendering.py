"""Markdown becomes safe HTML: whatever staff type, no script, handler or foreign address reaches a page."""

from html.parser import HTMLParser

import pytest

from clinic.articles.rendering import article_render
from clinic.articles.sanitising import article_sanitise


def rendered(markdown_text):
    body_html, _toc, _minutes = article_render(markdown_text)
    return body_html


class _TagCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags_in(html_fragment):
    """The elements a browser would build from the fragment (escaped text is not an element)."""
    collector = _TagCollector()
    collector.feed(html_fragment)
    return collector.tags


@pytest.mark.parametrize(
    "markdown_text",
    [
        "<script>alert('x')</script>",
        "Before <script>alert('x')</script> after",
        "<SCRIPT src=https://evil.example/x.js></SCRIPT>",
        "<img src=x onerror=alert(1)>",
        '<a href="#" onclick="alert(1)">tap</a>',
        "<svg onload=alert(1)></svg>",
        "<iframe src=https://evil.example></iframe>",
        "<style>body{display:none}</style>",
        '<div style="position:fixed">cover</div>',
    ],
)
def test_raw_html_in_the_markdown_never_becomes_markup(markdown_text):
    body_html = rendered(markdown_text)
    assert tags_in(body_html) == [("p", {})], body_html
    # The typed markup shows as text, so the mistake is visible in the preview.
    assert "&lt;" in body_html


@pytest.mark.parametrize(
    "href",
    ["javascript:alert(1)", "JavaScript:alert(1)", "vbscript:msgbox(1)", "data:text/html,<b>x</b>"],
)
def test_links_to_script_addresses_lose_their_address(href):
    body_html = rendered(f"[Read more]({href})")
    assert "Read more" in body_html
    assert "javascript" not in body_html.lower()
    assert "vbscript" not in body_html.lower()
    assert "data:" not in body_html


def test_ordinary_links_survive_with_safe_rel():
    body_html = rendered("[NHS](https://www.nhs.uk/) or call [01234 567890](tel:01234567890)")
    assert 'href="https://www.nhs.uk/"' in body_html
    assert 'href="tel:01234567890"' in body_html
    assert 'rel="noopener noreferrer"' in body_html


def test_own_illustrations_are_kept_and_foreign_images_become_their_alt_text():
    body_html = rendered(
        "![A bridge](/static/clinic/illustrations/bridge.svg)\n\n![Tracking pixel](https://evil.example/p.png)"
    )
    assert '<img alt="A bridge" src="/static/clinic/illustrations/bridge.svg">' in body_html
    assert "evil.example" not in body_html
    assert "Tracking pixel" in body_html


@pytest.mark.parametrize(
    ("fragment", "forbidden"),
    [
        ('<a href="javascript:alert(1)" onclick="alert(2)">x</a>', ["javascript", "onclick"]),
        ('<img src="/static/clinic/illustrations/bridge.svg" onerror="alert(1)">', ["onerror"]),
        ('<img src="https://evil.example/pixel.png">', ["evil.example"]),
        ('<img src="/static/../media/x.svg">', [".."]),
        ("<p>ok</p><script>alert(1)</script>", ["<script", "alert"]),
        ('<p style="color:red">ok</p>', ["style"]),
        ("<form action=/x><input name=q></form>", ["<form", "<input"]),
    ],
)
def test_the_sanitiser_strips_what_markdown_could_never_produce(fragment, forbidden):
    cleaned = article_sanitise(fragment).lower()
    for text in forbidden:
        assert text not in cleaned, cleaned


def test_headings_get_ids_and_a_table_of_contents_and_the_title_stays_the_only_h1():
    body_html, toc, _ = article_render("# Stray top heading\n\n## Main\n\nText.\n\n### Detail\n\nMore.\n")
    assert "<h1" not in body_html
    assert toc == [
        {"id": "stray-top-heading", "title": "Stray top heading", "level": 2},
        # "main" is the page's own landmark id; a heading never takes it.
        {"id": "section-main", "title": "Main", "level": 2},
        {"id": "detail", "title": "Detail", "level": 3},
    ]
    for entry in toc:
        assert f'id="{entry["id"]}"' in body_html


@pytest.mark.parametrize(("words", "minutes"), [(0, 1), (10, 1), (200, 1), (201, 2), (1000, 5)])
def test_reading_time_is_whole_minutes_at_200_words_a_minute(words, minutes):
    _, _, reading_minutes = article_render(" ".join(["word"] * words))
    assert reading_minutes == minutes
