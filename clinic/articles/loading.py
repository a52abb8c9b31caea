"""Loading the article files of the repository (``clinic/content/articles/*.md``) into the database.

The files are the source of truth for the content they hold. Each row remembers a hash of its file as last
loaded (``source_hash``):

- a file that has not changed since the last load leaves its row alone, even if staff edited the article
  in the admin since (so routine deploys never undo an admin fix);
- a file that has changed replaces the row's content (the repository is where content is reviewed); if
  staff had edited that row in the admin, the load says so, so that the edit can be carried into the file;
- the ``published`` flag is the admin's: a new article starts published, a re-load never changes it;
- articles that exist only in the database (written in the admin) are never touched.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction

from clinic.articles.services import article_save, newlines_normalise
from clinic.models import Article

ARTICLES_DIR = Path(__file__).resolve().parent.parent / "content" / "articles"

_FRONT_MATTER_RE = re.compile(r"\A---\s*\n(.*?)\n---\s*\n(.*)\Z", re.DOTALL)
_REQUIRED_KEYS = {"title", "slug", "summary", "order", "reviewed_on", "related", "emergency_banner"}


class ArticleSourceError(ValueError):
    """An article file cannot be loaded; the message names the file."""


@dataclass(frozen=True)
class ArticleSource:
    """An article as written in the repository."""

    slug: str
    title: str
    summary: str
    order: int
    reviewed_on: date
    emergency_banner: bool
    related: tuple[str, ...]
    body_markdown: str

    @property
    def content_hash(self) -> str:
        return _content_hash(
            slug=self.slug,
            title=self.title,
            summary=self.summary,
            order=self.order,
            reviewed_on=self.reviewed_on,
            emergency_banner=self.emergency_banner,
            related=self.related,
            body_markdown=self.body_markdown,
        )


def _content_hash(
    *,
    slug: str,
    title: str,
    summary: str,
    order: int,
    reviewed_on: date,
    emergency_banner: bool,
    related: Iterable[str],
    body_markdown: str,
) -> str:
    payload = {
        "slug": slug,
        "title": title,
        "summary": summary,
        "order": order,
        "reviewed_on": reviewed_on.isoformat(),
        "emergency_banner": emergency_banner,
        "related": sorted(related),
        "body_markdown": newlines_normalise(body_markdown).strip(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _article_content_hash(article: Article) -> str:
    return _content_hash(
        slug=article.slug,
        title=article.title,
        summary=article.summary,
        order=article.order,
        reviewed_on=article.reviewed_on,
        emergency_banner=article.emergency_banner,
        related=article.related.values_list("slug", flat=True),
        body_markdown=article.body_markdown,
    )


def article_source_parse(path: Path) -> ArticleSource:
    """Read one article file: YAML front matter between '---' lines, then the Markdown body."""
    match = _FRONT_MATTER_RE.match(path.read_text(encoding="utf-8"))
    if match is None:
        raise ArticleSourceError(f"{path.name}: no YAML front matter between '---' lines at the top")
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError as error:
        raise ArticleSourceError(f"{path.name}: front matter is not valid YAML ({error})") from error
    if not isinstance(meta, dict):
        raise ArticleSourceError(f"{path.name}: front matter is not a mapping")
    missing = _REQUIRED_KEYS - meta.keys()
    if missing:
        raise ArticleSourceError(f"{path.name}: front matter lacks {', '.join(sorted(missing))}")
    reviewed_on = meta["reviewed_on"]
    if not isinstance(reviewed_on, date):
        raise ArticleSourceError(f"{path.name}: reviewed_on must be a date such as 2026-01-31")
    related = meta["related"] or []
    if not isinstance(related, list) or not all(isinstance(slug, str) for slug in related):
        raise ArticleSourceError(f"{path.name}: related must be a list of slugs")
    if not isinstance(meta["order"], int) or not isinstance(meta["emergency_banner"], bool):
        raise ArticleSourceError(f"{path.name}: order must be a whole number and emergency_banner true or false")
    return ArticleSource(
        slug=str(meta["slug"]),
        title=str(meta["title"]),
        summary=str(meta["summary"]),
        order=meta["order"],
        reviewed_on=reviewed_on,
        emergency_banner=meta["emergency_banner"],
        related=tuple(related),
        body_markdown=newlines_normalise(match.group(2)).strip() + "\n",
    )


@dataclass
class ArticleLoadResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # Updated from a changed file although staff had edited the article in the admin since the last load.
    admin_edits_replaced: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{len(self.created)} created, {len(self.updated)} updated, {len(self.unchanged)} unchanged"


def _sources_read(folder: Path) -> list[ArticleSource]:
    paths = sorted(folder.glob("*.md"))
    if not paths:
        raise ArticleSourceError(f"no article files (*.md) in {folder}")
    sources = [article_source_parse(path) for path in paths]
    slugs = [source.slug for source in sources]
    duplicates = sorted({slug for slug in slugs if slugs.count(slug) > 1})
    if duplicates:
        raise ArticleSourceError(f"more than one file has the slug {', '.join(duplicates)}")
    known = set(slugs) | set(Article.objects.values_list("slug", flat=True))
    for source in sources:
        unknown = sorted(set(source.related) - known)
        if unknown:
            raise ArticleSourceError(f"{source.slug}: related article(s) not found: {', '.join(unknown)}")
    return sources


@transaction.atomic
def articles_load_from_folder(folder: Path = ARTICLES_DIR) -> ArticleLoadResult:
    """Create or update one article per ``*.md`` file in `folder`, matched by slug.

    Idempotent: a second load of the same files writes nothing and reports every article unchanged. All
    or nothing: an invalid file (bad front matter, an unknown related slug, a field that fails validation)
    raises before anything is written, or rolls back what was. See the module docstring for what a load
    does to articles staff edited in the admin.
    """
    sources = _sources_read(folder)
    result = ArticleLoadResult()
    existing = {article.slug: article for article in Article.objects.filter(slug__in=[s.slug for s in sources])}
    to_relate: list[tuple[Article, ArticleSource]] = []
    for source in sources:
        article = existing.get(source.slug)
        content_hash = source.content_hash
        if article is not None and article.source_hash == content_hash:
            result.unchanged.append(source.slug)
            continue
        if article is None:
            article = Article(slug=source.slug, published=True)
            result.created.append(source.slug)
        else:
            if _article_content_hash(article) != article.source_hash:
                result.admin_edits_replaced.append(source.slug)
            result.updated.append(source.slug)
        article.title = source.title
        article.summary = source.summary
        article.order = source.order
        article.reviewed_on = source.reviewed_on
        article.emergency_banner = source.emergency_banner
        article.body_markdown = source.body_markdown
        article.source_hash = content_hash
        try:
            article_save(article=article)
        except ValidationError as error:
            raise ArticleSourceError(f"{source.slug}: {'; '.join(error.messages)}") from error
        to_relate.append((article, source))
    for article, source in to_relate:
        article.related.set(Article.objects.filter(slug__in=source.related))
    return result
