"""Writing articles: every save renders the body again, and every write makes the cached pages stale."""

from __future__ import annotations

from clinic.articles.cache import articles_cache_clear
from clinic.articles.rendering import article_render
from clinic.articles.sanitising import html_to_text
from clinic.models import Article


def newlines_normalise(text: str) -> str:
    # Browsers send textarea content with CRLF; the files use LF. One form, so hashes compare.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def article_save(*, article: Article) -> Article:
    """Validate and save `article`, with its HTML, plain text, table of contents and reading time
    rendered from its current Markdown. Raises ValidationError when a field is invalid."""
    article.body_markdown = newlines_normalise(article.body_markdown)
    article.body_html, article.toc, article.reading_minutes = article_render(article.body_markdown)
    article.body_text = html_to_text(article.body_html)
    article.full_clean(exclude=["related"])
    article.save()
    articles_cache_clear()
    return article


def article_delete(*, article: Article) -> None:
    article.delete()
    articles_cache_clear()


def articles_rerender() -> int:
    """Render every article's stored HTML again (after the renderer or its allow-list changed)."""
    count = 0
    for article in Article.objects.all():
        article_save(article=article)
        count += 1
    return count
