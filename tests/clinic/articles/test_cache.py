"""Article pages come from the cache for patients, and a staff edit shows at once."""

import pytest
from django.urls import reverse

from clinic.articles.services import article_save
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url_name", ["home", "article_list"])
def test_repeated_list_views_do_no_database_work(client, articles, url_name, django_assert_num_queries):
    client.get(reverse(url_name))
    with django_assert_num_queries(0):
        response = client.get(reverse(url_name))
    assert articles[0].title in response.content.decode()


def test_a_repeated_article_view_does_no_database_work(client, articles, django_assert_num_queries):
    url = articles[0].get_absolute_url()
    # The article, its related articles, and whether online booking is offered (the menu's booking link).
    with django_assert_num_queries(3):
        client.get(url)
    with django_assert_num_queries(0):
        response = client.get(url)
    assert response.status_code == 200
    assert articles[0].title in response.content.decode()


def test_a_staff_edit_in_the_admin_shows_on_the_next_view(
    admin_client, client, articles, django_capture_on_commit_callbacks
):
    article = articles[0]
    client.get(article.get_absolute_url())
    client.get(reverse("article_list"))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:clinic_article_change", args=[article.pk]),
            {
                "title": "A back spasm, explained",
                "slug": article.slug,
                "summary": article.summary,
                "published": "on",
                "order": article.order,
                "reviewed_on": "2026-11-23",
                "body_markdown": "## Freshly edited\n\nNew words.\n",
                "related": [related.pk for related in article.related.all()],
            },
        )
    assert response.status_code == 302
    html = client.get(article.get_absolute_url()).content.decode()
    assert "A back spasm, explained" in html
    assert "Freshly edited" in html
    assert "A back spasm, explained" in client.get(reverse("article_list")).content.decode()


def test_unpublishing_in_the_admin_hides_the_cached_page_at_once(
    admin_client, client, articles, django_capture_on_commit_callbacks
):
    article = articles[2]
    assert client.get(article.get_absolute_url()).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("admin:clinic_article_change", args=[article.pk]),
            {
                "title": article.title,
                "slug": article.slug,
                "summary": article.summary,
                "order": article.order,
                "reviewed_on": "2026-11-23",
                "body_markdown": article.body_markdown,
                "related": [],
            },
        )
    assert client.get(article.get_absolute_url()).status_code == 404
    # Pages that listed it as related stop linking to it too.
    for other in articles:
        if other.published and other.pk != article.pk:
            assert article.get_absolute_url() not in client.get(other.get_absolute_url()).content.decode()


def test_deleting_in_the_admin_removes_the_cached_page(admin_client, client, django_capture_on_commit_callbacks):
    article = ArticleFactory()
    assert client.get(article.get_absolute_url()).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("admin:clinic_article_delete", args=[article.pk]), {"post": "yes"})
    assert client.get(article.get_absolute_url()).status_code == 404


def test_bulk_delete_in_the_admin_removes_the_cached_pages(admin_client, client, django_capture_on_commit_callbacks):
    first, second = ArticleFactory(), ArticleFactory()
    for article in (first, second):
        assert client.get(article.get_absolute_url()).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("admin:clinic_article_changelist"),
            {"action": "delete_selected", "_selected_action": [first.pk, second.pk], "post": "yes"},
        )
    for article in (first, second):
        assert client.get(article.get_absolute_url()).status_code == 404


def test_a_service_save_outside_the_admin_also_refreshes_the_page(client, django_capture_on_commit_callbacks):
    article = ArticleFactory(title="Before")
    client.get(article.get_absolute_url())
    article.title = "After"
    with django_capture_on_commit_callbacks(execute=True):
        article_save(article=article)
    assert '<h1 id="article-title">After</h1>' in client.get(article.get_absolute_url()).content.decode()


def test_the_cache_is_kept_until_the_edit_commits(client, django_capture_on_commit_callbacks):
    article = ArticleFactory(title="Before")
    client.get(article.get_absolute_url())
    article.title = "After"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        article_save(article=article)
    assert len(callbacks) == 1
    # Not committed yet: patients still get the cached page; the commit then refreshes it.
    assert "Before" in client.get(article.get_absolute_url()).content.decode()
    callbacks[0]()
    assert "After" in client.get(article.get_absolute_url()).content.decode()


def test_an_edit_made_by_another_web_process_shows_here_within_the_recheck_time(client, monkeypatch):
    """Other processes only change the shared version; this process's page memory notices on its next check."""
    import uuid

    from django.core.cache import cache

    from clinic import public_pages

    article = ArticleFactory(body_markdown="## Start\n\nThe first wording.\n")
    now = [1000.0]
    monkeypatch.setattr(public_pages.time, "monotonic", lambda: now[0])
    assert "The first wording." in client.get(article.get_absolute_url()).content.decode()

    # Another process saves a new wording: the database row and the shared version change, not our memory.
    type(article).objects.filter(pk=article.pk).update(body_html="<h2>Start</h2><p>The second wording.</p>")
    cache.set(public_pages.VERSION_KEY, f"2000-{uuid.uuid4().hex}", timeout=None)
    now[0] += 1
    assert "The first wording." in client.get(article.get_absolute_url()).content.decode(), "kept until recheck"
    now[0] += public_pages.VERSION_RECHECK_SECONDS
    assert "The second wording." in client.get(article.get_absolute_url()).content.decode()
