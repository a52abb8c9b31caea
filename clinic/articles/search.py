"""The site search: every word of the query, in the title, summary or text of a published article."""

from __future__ import annotations

import re

from django.db.models import Q, QuerySet

from clinic.articles.selectors import articles_published
from clinic.models import Article

SEARCH_MAX_CHARS = 100
SEARCH_MAX_TERMS = 8
_CONTROL_CHARS_RE = re.compile(r"[\x00-\x1f\x7f]")


def search_query_clean(raw: str) -> str:
    """The query as it will be searched: control characters dropped, spaces collapsed, length capped."""
    text = _CONTROL_CHARS_RE.sub(" ", raw)
    return " ".join(text.split())[:SEARCH_MAX_CHARS].strip()


def articles_search(*, query: str) -> QuerySet[Article]:
    """Published articles containing every word of `query` in the title, summary or text, in list order.

    Plain case-insensitive containment, the same on SQLite and PostgreSQL; an empty query finds nothing.
    """
    terms = search_query_clean(query).split()[:SEARCH_MAX_TERMS]
    if not terms:
        return Article.objects.none()
    matches = Q()
    for term in terms:
        matches &= Q(title__icontains=term) | Q(summary__icontains=term) | Q(body_text__icontains=term)
    return articles_published().filter(matches)
