"""Articles: rendering Markdown to safe HTML, saving, loading from the repository, reading and caching.

Rendering happens once, when an article is saved; pages only print the stored HTML.

Two layers keep a staff member's markup off the page:

1. Markdown is read as Markdown only: raw HTML typed into a body (``<script>``, ``<img onerror=...>``) is
   escaped and shows as text, so a mistake is visible in the admin preview instead of silently vanishing.
2. Whatever Markdown produces then goes through nh3 with an allow-list of the few tags and attributes
   articles need; links keep only http(s), mailto and tel addresses, images only our own static files.

Loading from the repository (``articles_load_from_folder``): the files are the source of truth for the
content they hold. Each row remembers a hash of its file as last loaded (``source_hash``):

- a file that has not changed since the last load leaves its row alone, even if staff edited the article
  in the admin since (so routine deploys never undo an admin fix);
- a file that has changed replaces the row's content (the repository is where content is reviewed); if
  staff had edited that row in the admin, the load says so, so that the edit can be carried into the file;
- the ``published`` flag is the admin's: a new article starts published, a re-load never changes it;
- articles that exist only in the database (written in the admin) are never touched.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import re
import xml.etree.ElementTree as etree
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import markdown
import nh3
import yaml
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from markdown.extensions import Extension
from markdown.extensions.toc import slugify as markdown_slugify
from markdown.treeprocessors import Treeprocessor

from clinic.models import Article
from clinic.public_pages import public_pages_changed, public_pages_version

ARTICLES_DIR = Path(__file__).resolve().parent / "content" / "articles"

WORDS_PER_MINUTE = 200

# Ids the page templates use around an article body; a heading never takes one of them.
RESERVED_IDS = frozenset({"main", "content"})
RESERVED_ID_PREFIX = "page-"

# Images must be our own files: no tracking pixel or hot-linked picture from another host.
ALLOWED_IMAGE_SRC_RE = re.compile(r"^/static/clinic/(?:[a-z0-9_-]+/)*[a-z0-9_-]+\.(?:svg|png|jpe?g|webp)$")

ALLOWED_TAGS = {
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "p",
    "br",
    "hr",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "a",
    "img",
}
ALLOWED_ATTRIBUTES = {
    "h2": {"id"},
    "h3": {"id"},
    "h4": {"id"},
    "h5": {"id"},
    "h6": {"id"},
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto", "tel"}


# Rendering


def _heading_id(value: str, separator: str) -> str:
    slug = markdown_slugify(value, separator) or "section"
    if slug in RESERVED_IDS or slug.startswith(RESERVED_ID_PREFIX):
        slug = f"section-{slug}"
    return slug


class _ArticleTreeprocessor(Treeprocessor):
    """Keeps the page's outline and images ours: the page title is the only h1, images are local files."""

    def run(self, root: etree.Element) -> None:
        for parent in list(root.iter()):
            for child in list(parent):
                if child.tag == "h1":
                    child.tag = "h2"
                elif child.tag == "img" and not ALLOWED_IMAGE_SRC_RE.match(child.get("src", "")):
                    _replace_with_text(parent, child, child.get("alt", ""))


def _replace_with_text(parent: etree.Element, child: etree.Element, text: str) -> None:
    text += child.tail or ""
    index = list(parent).index(child)
    if index == 0:
        parent.text = (parent.text or "") + text
    else:
        previous = parent[index - 1]
        previous.tail = (previous.tail or "") + text
    parent.remove(child)


class _ArticleExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        # Raw HTML is escaped, not passed through: see the module docstring.
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        # After inline parsing (20), before the table of contents (5) reads the headings.
        md.treeprocessors.register(_ArticleTreeprocessor(md), "clinic_article", 8)


def _image_src_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src" and not ALLOWED_IMAGE_SRC_RE.match(value):
        return None
    return value


def article_sanitise(html_fragment: str) -> str:
    """Return `html_fragment` with only the tags, attributes and addresses an article may use."""
    return nh3.clean(
        html_fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_image_src_filter,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
    )


def _html_to_text(html_fragment: str) -> str:
    return html.unescape(nh3.clean(html_fragment, tags=set()))


def _toc_flatten(tokens: Iterable[dict]) -> list[dict]:
    entries = []
    for token in tokens:
        entries.append({"id": token["id"], "title": html.unescape(token["name"]), "level": token["level"]})
        entries.extend(_toc_flatten(token["children"]))
    return entries


def article_render(body_markdown: str) -> tuple[str, list[dict], int]:
    """Render an article body.

    Returns the sanitised HTML, the table of contents (``[{"id", "title", "level"}]`` for the h2 and h3
    headings, in page order, each id present in the HTML) and the reading time in whole minutes (at least 1).
    """
    md = markdown.Markdown(
        extensions=[
            "sane_lists",
            _ArticleExtension(),
            "toc",
        ],
        extension_configs={"toc": {"slugify": _heading_id, "toc_depth": "2-3"}},
        output_format="html",
    )
    body_html = article_sanitise(md.convert(body_markdown))
    toc = _toc_flatten(md.toc_tokens)
    words = len(_html_to_text(body_html).split())
    reading_minutes = max(1, math.ceil(words / WORDS_PER_MINUTE))
    return body_html, toc, reading_minutes


# Writing


def _normalise_newlines(text: str) -> str:
    # Browsers send textarea content with CRLF; the files use LF. One form, so hashes compare.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def article_save(*, article: Article) -> Article:
    """Validate and save `article`, with its HTML, plain text, table of contents and reading time
    rendered from its current Markdown. Raises ValidationError when a field is invalid."""
    article.body_markdown = _normalise_newlines(article.body_markdown)
    article.body_html, article.toc, article.reading_minutes = article_render(article.body_markdown)
    article.body_text = _html_to_text(article.body_html)
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


# Loading from the repository

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
        "body_markdown": _normalise_newlines(body_markdown).strip(),
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
        body_markdown=_normalise_newlines(match.group(2)).strip() + "\n",
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


# Reading

SEARCH_MAX_CHARS = 100
SEARCH_MAX_TERMS = 8
_CONTROL_CHARS_RE = re.compile(r"[\x00-\x1f\x7f]")


def articles_published() -> QuerySet[Article]:
    return Article.objects.published().order_by("order", "title")


def article_related_published(*, article: Article) -> QuerySet[Article]:
    return article.related.published().exclude(pk=article.pk).order_by("order", "title")


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


# Caching: the article list is read from the shared cache, and the public pages that show articles are kept by
# each web process (clinic.public_pages), so a repeated view does no database work. Every write through this
# module makes all of them stale at once, by changing the public pages' version that is part of every key; old
# entries simply expire. The timeout bounds how stale a list can be in a process that does not share the cache
# (the local default).

ARTICLES_CACHE_SECONDS = 5 * 60


def articles_cache_clear() -> None:
    """Make every cached article list and public page stale, once the current transaction (if any) commits
    (see `public_pages_changed`)."""
    public_pages_changed()


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


def articles_published_cached() -> list[Article]:
    """The published articles in list order, from the cache when possible."""
    key = f"clinic:articles:{public_pages_version()}:list"
    articles = cache.get(key)
    if articles is None:
        articles = list(articles_published())
        cache.set(key, articles, ARTICLES_CACHE_SECONDS)
    return articles
