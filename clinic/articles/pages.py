"""What an article page shows: the article and its published related articles."""

from __future__ import annotations

from dataclasses import dataclass

from clinic.articles.selectors import article_related_published, articles_published
from clinic.models import Article


@dataclass(frozen=True)
class ArticlePage:
    """What an article page shows: the article and its published related articles."""

    article: Article
    related: list[Article]


def article_page_build(*, article: Article) -> ArticlePage:
    return ArticlePage(article=article, related=list(article_related_published(article=article)))


def article_page_published(*, slug: str) -> ArticlePage | None:
    """The page of the published article `slug`; None if there is none. The view is a public page
    (clinic.public_pages), so for patients this runs once per web process and content version."""
    if len(slug) > Article._meta.get_field("slug").max_length:
        return None
    article = articles_published().filter(slug=slug).first()
    return None if article is None else article_page_build(article=article)
