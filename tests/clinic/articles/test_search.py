"""Searching the articles: finds words in the text, and survives whatever is typed into the box."""

import pytest
from django.urls import reverse

from clinic.articles.search import SEARCH_MAX_CHARS
from tests.clinic.html_page import page_read
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db

SEARCH = reverse("article_search")


def result_slugs(response):
    return [article.slug for article in response.context["results"]]


def test_finds_an_article_by_a_word_that_is_only_in_its_body(client, articles):
    response = client.get(SEARCH, {"q": "cauda equina"})
    assert response.status_code == 200
    assert "when-to-get-help-for-back-pain" in result_slugs(response)
    assert reverse("article_detail", kwargs={"slug": "when-to-get-help-for-back-pain"}) in page_read(response).links


def test_every_word_must_match_in_any_case(client):
    ArticleFactory(slug="heat", title="Heat", body_markdown="## Warmth\n\nA hot water BOTTLE for twenty minutes.\n")
    ArticleFactory(slug="cold", title="Cold", body_markdown="## Cold\n\nA bag of frozen peas in a towel.\n")
    assert result_slugs(client.get(SEARCH, {"q": "bottle"})) == ["heat"]
    assert result_slugs(client.get(SEARCH, {"q": "Hot  Bottle"})) == ["heat"]
    assert result_slugs(client.get(SEARCH, {"q": "bottle peas"})) == []


def test_the_markdown_syntax_itself_is_not_searched(client):
    ArticleFactory(slug="plain", body_markdown="## Section\n\n**Bold** words and a [link](https://example.org/).\n")
    assert result_slugs(client.get(SEARCH, {"q": "example.org"})) == []
    assert result_slugs(client.get(SEARCH, {"q": "bold words"})) == ["plain"]


def test_no_query_shows_the_box_and_no_results(client, articles):
    response = client.get(SEARCH)
    assert response.status_code == 200
    assert response.context["results"] == []
    assert "Type a word or two above" in response.content.decode()


def test_a_word_that_matches_nothing_says_so(client, articles):
    response = client.get(SEARCH, {"q": "xylophone"})
    assert response.status_code == 200
    assert "No articles match “xylophone”" in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "   ",
        "back " * 5000,
        "x" * 100_000,
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "%",
        "_",
        "\\",
        "\x00\x01 spasm",
        "' OR 1=1 --",
        "spasm " + "🙂" * 500,
    ],
)
def test_any_query_is_answered_without_error_and_shown_only_as_text(client, articles, query):
    response = client.get(SEARCH, {"q": query})
    html = response.content.decode()
    assert response.status_code == 200
    assert len(response.context["query"]) <= SEARCH_MAX_CHARS
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert [script for script in page_read(response).scripts if "src" not in script] == []


def test_a_like_wildcard_is_searched_for_literally(client, articles):
    assert result_slugs(client.get(SEARCH, {"q": "%"})) == []


def test_search_pages_are_kept_out_of_search_engines(client):
    assert page_read(client.get(SEARCH, {"q": "heat"})).meta["robots"] == "noindex"
