"""An article's Markdown body becomes safe HTML, a table of contents and a reading time.

Rendering happens once, when an article is saved (`clinic.articles.services`); pages only print the stored HTML.

Two layers keep a staff member's markup off the page:

1. Markdown is read as Markdown only: raw HTML typed into a body (``<script>``, ``<img onerror=...>``) is
   escaped and shows as text, so a mistake is visible in the admin preview instead of silently vanishing.
2. Whatever Markdown produces then goes through the allow-list of `clinic.articles.sanitising`.
"""

from __future__ import annotations

import html
import math
import xml.etree.ElementTree as etree
from collections.abc import Iterable

import markdown
from markdown.extensions import Extension
from markdown.extensions.toc import slugify as markdown_slugify
from markdown.treeprocessors import Treeprocessor

from clinic.articles.sanitising import ALLOWED_IMAGE_SRC_RE, article_sanitise, html_to_text

WORDS_PER_MINUTE = 200

# Ids the page templates use around an article body; a heading never takes one of them.
RESERVED_IDS = frozenset({"main", "content"})
RESERVED_ID_PREFIX = "page-"


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
    words = len(html_to_text(body_html).split())
    reading_minutes = max(1, math.ceil(words / WORDS_PER_MINUTE))
    return body_html, toc, reading_minutes
