"""Reading articles: what patients may see, in the order the site lists them."""

from __future__ import annotations

from django.db.models import QuerySet

from clinic.models import Article


def articles_published() -> QuerySet[Article]:
    return Article.objects.published().order_by("order", "title")


def article_related_published(*, article: Article) -> QuerySet[Article]:
    return article.related.published().exclude(pk=article.pk).order_by("order", "title")
