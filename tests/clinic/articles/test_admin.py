"""Staff edit articles in the admin; what they type is rendered and sanitised before any patient sees it."""

import datetime as dt

import pytest
from django.urls import reverse

from clinic.models import Article
from tests.clinic.html_page import page_read
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:clinic_article_add")
HOSTILE_BODY = (
    "## Care at home\n\n"
    "Rest a little. <script>alert('staff')</script>\n\n"
    "<img src=x onerror=alert(1)>\n\n"
    "[Tap here](javascript:alert(2)) for more.\n\n"
    "![Bridge](/static/clinic/illustrations/bridge.svg)\n"
)


def form_data(**overrides):
    data = {
        "title": "Sleeping with a sore back",
        "slug": "sleeping-with-a-sore-back",
        "summary": "Positions that ease the night.",
        "published": "on",
        "order": "9",
        "reviewed_on": "2026-11-20",
        "body_markdown": "## Lying on your side\n\nA pillow between the knees helps.\n",
        "related": [],
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def change_url(article):
    return reverse("admin:clinic_article_change", args=[article.pk])


def test_the_form_offers_every_field_staff_edit(admin_client):
    fields = admin_client.get(ADD_URL).context["adminform"].form.fields
    for name in ("title", "slug", "summary", "body_markdown", "reviewed_on", "published", "order", "related"):
        assert name in fields
    for derived in ("body_html", "body_text", "toc", "source_hash"):
        assert derived not in fields


def test_staff_add_an_article_and_it_is_rendered_for_patients(admin_client, client):
    response = admin_client.post(ADD_URL, form_data())
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    article = Article.objects.get(slug="sleeping-with-a-sore-back")
    assert article.order == 9
    assert article.reviewed_on == dt.date(2026, 11, 20)
    assert (
        article.body_html
        == '<h2 id="lying-on-your-side">Lying on your side</h2>\n<p>A pillow between the knees helps.</p>'
    )
    assert article.toc == [{"id": "lying-on-your-side", "title": "Lying on your side", "level": 2}]
    page = client.get(article.get_absolute_url())
    assert page.status_code == 200
    assert "A pillow between the knees helps." in page.content.decode()


def test_a_staff_script_never_reaches_the_page(admin_client, client):
    response = admin_client.post(ADD_URL, form_data(body_markdown=HOSTILE_BODY))
    assert response.status_code == 302
    article = Article.objects.get(slug="sleeping-with-a-sore-back")
    assert "<script" not in article.body_html
    assert "<img src=x" not in article.body_html

    response = client.get(article.get_absolute_url())
    html = response.content.decode()
    page = page_read(response)
    assert "<script>alert('staff')" not in html
    assert [script for script in page.scripts if "src" not in script] == [{"type": "application/ld+json"}]
    assert page.event_handlers == []
    assert not [link for link in page.links if "javascript" in link.lower()]
    assert [image["src"] for image in page.images] == ["/static/clinic/illustrations/bridge.svg"]
    # What staff typed shows as text, so they can see and fix it.
    assert "&lt;script&gt;alert" in html


def test_the_admin_preview_is_the_sanitised_html(admin_client):
    article = ArticleFactory(body_markdown=HOSTILE_BODY)
    html = admin_client.get(change_url(article)).content.decode()
    assert "<script>alert('staff')" not in html
    assert "&lt;script&gt;alert('staff')&lt;/script&gt;" in html


def test_editing_re_renders_the_body(admin_client):
    article = ArticleFactory(body_markdown="## Old heading\n\nOld text.\n")
    response = admin_client.post(
        change_url(article),
        form_data(title=article.title, slug=article.slug, body_markdown="## New heading\r\n\r\nNew text.\r\n"),
    )
    assert response.status_code == 302
    article.refresh_from_db()
    assert "New heading" in article.body_html and "Old" not in article.body_html
    assert article.toc == [{"id": "new-heading", "title": "New heading", "level": 2}]
    # Line endings as the files use them, so a later file load compares like with like.
    assert "\r" not in article.body_markdown


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ""}, "title"),
        ({"slug": "not a slug"}, "slug"),
        ({"slug": "search"}, "slug"),
        ({"reviewed_on": "yesterday"}, "reviewed_on"),
        ({"order": "-1"}, "order"),
        ({"summary": "x" * 301}, "summary"),
    ],
)
def test_bad_input_is_shown_next_to_the_field_and_nothing_is_saved(admin_client, overrides, field):
    response = admin_client.post(ADD_URL, form_data(**overrides))
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Article.objects.exists()


def test_the_changelist_lists_articles(admin_client, articles):
    response = admin_client.get(reverse("admin:clinic_article_changelist"))
    assert response.status_code == 200
    assert [article.pk for article in response.context["cl"].result_list] == [article.pk for article in articles]
