"""Caching of articles.

The article list is read from the shared cache, and the public pages that show articles are kept by each web
process (clinic.public_pages), so a repeated view does no database work. Every write through
`clinic.articles.services` makes all of them stale at once, by changing the public pages' version that is part
of every key; old entries simply expire. The timeout bounds how stale a list can be in a process that does not
share the cache (the local default).
"""

from __future__ import annotations

from django.core.cache import cache

from clinic.articles.selectors import articles_published
from clinic.models import Article
from clinic.public_pages import public_pages_changed, public_pages_version

ARTICLES_CACHE_SECONDS = 5 * 60


def articles_cache_clear() -> None:
    """Make every cached article list and public page stale, once the current transaction (if any) commits
    (see `public_pages_changed`)."""
    public_pages_changed()


def articles_published_cached() -> list[Article]:
    """The published articles in list order, from the cache when possible."""
    key = f"clinic:articles:{public_pages_version()}:list"
    articles = cache.get(key)
    if articles is None:
        articles = list(articles_published())
        cache.set(key, articles, ARTICLES_CACHE_SECONDS)
    return articles
