"""The public article pages, as a patient and a search engine see them."""

import json
from xml.etree import ElementTree

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse

from clinic.articles.loading import ARTICLES_DIR, article_source_parse
from tests.clinic.html_page import page_read
from tests.factories import ArticleFactory, UserFactory

pytestmark = pytest.mark.django_db

SOURCES = [article_source_parse(path) for path in sorted(ARTICLES_DIR.glob("*.md"))]
SLUGS = [source.slug for source in SOURCES]
EMERGENCY_SLUG = "when-to-get-help-for-back-pain"
STRETCHES_SLUG = "stretches-and-exercises-for-back-spasms"
CALLBACK_URL = reverse("callbacks:request")
NOT_A_DIAGNOSIS = "General information, not a diagnosis."


def article_url(slug):
    return reverse("article_detail", kwargs={"slug": slug})


@pytest.mark.parametrize("slug", SLUGS)
def test_every_article_page_has_what_a_patient_needs(client, articles, slug):
    source = next(source for source in SOURCES if source.slug == slug)
    response = client.get(article_url(slug))
    html = response.content.decode()
    page = page_read(response)

    assert response.status_code == 200
    assert [text for tag, text in page.headings if tag == "h1"] == [source.title]
    # Table of contents: one link per section, each to a heading that is on the page.
    section_ids = [entry["id"] for entry in response.context["article"].toc if entry["level"] == 2]
    assert len(section_ids) >= 3
    toc_links = [link for link in page.links if link.startswith("#") and link != "#main"]
    assert toc_links == [f"#{section_id}" for section_id in section_ids]
    assert all(section_id in page.ids for section_id in section_ids)
    assert f"{response.context['article'].reading_minutes} min read" in html
    assert NOT_A_DIAGNOSIS in html
    reviewed = source.reviewed_on
    assert f'Reviewed on <time datetime="{reviewed:%Y-%m-%d}">{reviewed.day} {reviewed:%B %Y}</time>' in html
    assert CALLBACK_URL in page.links
    # Related articles: each listed by its own link.
    for related_slug in source.related:
        assert article_url(related_slug) in page.links


@pytest.mark.parametrize("slug", SLUGS)
def test_every_article_page_tells_search_engines_what_it_is(client, articles, slug):
    source = next(source for source in SOURCES if source.slug == slug)
    page = page_read(client.get(article_url(slug)))
    assert page.title == f"{source.title} · {settings.CLINIC_NAME}"
    assert page.meta["description"] == source.summary
    assert page.canonical == settings.SITE_URL + article_url(slug)
    assert len(page.json_ld) == 1
    data = json.loads(page.json_ld[0])
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "MedicalWebPage"
    assert data["name"] == source.title
    assert data["url"] == page.canonical
    assert data["lastReviewed"] == source.reviewed_on.isoformat()


@pytest.mark.parametrize("slug", SLUGS)
def test_article_pages_carry_no_inline_script_or_style(client, articles, slug):
    response = client.get(article_url(slug))
    page = page_read(response)
    # The only <script> without a src is the JSON-LD data block, which browsers never run.
    assert [script for script in page.scripts if "src" not in script] == [{"type": "application/ld+json"}]
    assert page.inline_styles == 0
    assert page.event_handlers == []
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy


def test_json_ld_cannot_be_broken_out_of_by_an_article_title(client):
    title = "Back pain </script><script>alert(1)</script> & more"
    article = ArticleFactory(title=title, summary="Summary with <b>tags</b> & ampersands.")
    response = client.get(article.get_absolute_url())
    page = page_read(response)
    assert len(page.json_ld) == 1
    assert json.loads(page.json_ld[0])["name"] == title
    assert [script for script in page.scripts if "src" not in script] == [{"type": "application/ld+json"}]
    assert "<script>alert(1)" not in response.content.decode()


def test_the_stretches_article_shows_an_illustration_for_each_stretch(client, articles):
    page = page_read(client.get(article_url(STRETCHES_SLUG)))
    sources = [image["src"] for image in page.images]
    assert len(sources) == 9
    for image in page.images:
        assert image["src"].startswith("/static/clinic/illustrations/")
        assert image["src"].endswith(".svg")
        assert len(image["alt"]) > 20, "an illustration needs a description for screen readers"
        assert finders.find(image["src"].removeprefix("/static/")), f"{image['src']} is not a static file"
    for stretch in ("childs-pose", "bridge", "knee-to-chest"):
        assert f"/static/clinic/illustrations/{stretch}.svg" in sources


def test_the_when_to_get_help_article_opens_with_the_emergency_banner(client, articles, settings):
    settings.CLINIC_EMERGENCY_NUMBER = "911"
    html = client.get(article_url(EMERGENCY_SLUG)).content.decode()
    banner_at = html.index('class="alert alert-danger emergency-banner"')
    assert banner_at < html.index('<h1 id="article-title">')
    banner = html[banner_at : html.index("</section>", banner_at)]
    assert 'Call <a href="tel:911">911</a> now' in banner
    assert "bladder or bowels" in banner
    assert "emergency department" in banner


@pytest.mark.parametrize("slug", [slug for slug in SLUGS if slug != EMERGENCY_SLUG])
def test_other_articles_have_no_emergency_banner(client, articles, slug):
    assert "emergency-banner" not in client.get(article_url(slug)).content.decode()


def test_article_list_shows_every_published_article_in_order(client, articles):
    articles[1].published = False
    articles[1].save()
    response = client.get(reverse("article_list"))
    page = page_read(response)
    assert response.status_code == 200
    listed = [link for link in page.links if link.startswith("/articles/") and link != reverse("article_list")]
    expected = [article.get_absolute_url() for article in articles if article.published]
    assert listed == expected
    assert page.canonical == settings.SITE_URL + reverse("article_list")


def test_home_leads_to_the_articles_and_to_the_callback_form(client, articles):
    response = client.get(reverse("home"))
    page = page_read(response)
    assert response.status_code == 200
    assert reverse("article_list") in page.links
    assert CALLBACK_URL in page.links
    for article in articles:
        assert article.get_absolute_url() in page.links
    assert page.canonical == settings.SITE_URL + "/"


def test_unpublished_article_is_hidden_from_patients_everywhere(client, articles):
    hidden = ArticleFactory(title="Draft about sleeping", body_markdown="## Pillows\n\nZygapophyseal joints.\n")
    hidden.published = False
    hidden.save()
    url = hidden.get_absolute_url()
    assert client.get(url).status_code == 404
    assert url not in page_read(client.get(reverse("article_list"))).links
    assert url not in page_read(client.get(reverse("home"))).links
    assert url not in client.get(reverse("sitemap")).content.decode()
    assert client.get(reverse("article_search"), {"q": "zygapophyseal"}).context["results"] == []


def test_staff_can_preview_an_unpublished_article(client):
    hidden = ArticleFactory(published=False)
    client.force_login(UserFactory())
    response = client.get(hidden.get_absolute_url())
    assert response.status_code == 200
    assert "Staff preview: this article is not published" in response.content.decode()


@pytest.mark.parametrize("path", ["/articles/no-such-article/", "/articles/" + "a" * 300 + "/", "/articles/x/y/"])
def test_unknown_articles_are_not_found(client, articles, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("url_name", ["home", "article_list", "article_search", "robots_txt", "sitemap"])
def test_public_pages_only_answer_reads(client, articles, url_name):
    url = reverse(url_name)
    assert client.get(url).status_code == 200
    assert client.head(url).status_code == 200
    assert client.post(url).status_code == 405


def test_article_pages_only_answer_reads(client, articles):
    assert client.post(article_url(SLUGS[0])).status_code == 405


def test_titles_and_descriptions_are_unique_across_pages(client, articles):
    urls = [
        reverse("home"),
        reverse("article_list"),
        reverse("article_search"),
        CALLBACK_URL,
        *(article_url(slug) for slug in SLUGS),
    ]
    pages = [page_read(client.get(url)) for url in urls]
    titles = [page.title for page in pages]
    descriptions = [page.meta["description"] for page in pages]
    assert all(titles) and all(descriptions)
    assert len(set(titles)) == len(urls), titles
    assert len(set(descriptions)) == len(urls), descriptions


def test_sitemap_lists_the_pages_and_every_published_article(client, articles):
    articles[0].published = False
    articles[0].save()
    response = client.get(reverse("sitemap"))
    assert response.status_code == 200
    namespace = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    sitemap = ElementTree.fromstring(response.content)  # noqa: S314 (the site's own response, not untrusted XML)
    locations = [loc.text for loc in sitemap.findall("s:url/s:loc", namespace)]
    expected_articles = {settings.SITE_URL + article.get_absolute_url() for article in articles if article.published}
    assert expected_articles <= set(locations)
    assert settings.SITE_URL + articles[0].get_absolute_url() not in locations
    assert settings.SITE_URL + reverse("home") in locations
    assert settings.SITE_URL + reverse("article_list") in locations
    assert settings.SITE_URL + CALLBACK_URL in locations
    assert len(locations) == len(expected_articles) + 3


def test_robots_txt_points_to_the_sitemap_and_keeps_crawlers_out_of_the_admin(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    assert f"Disallow: /{settings.ADMIN_URL_PATH}" in lines
    assert f"Disallow: {reverse('article_search')}" in lines
    assert f"Sitemap: {settings.SITE_URL}/sitemap.xml" in lines
