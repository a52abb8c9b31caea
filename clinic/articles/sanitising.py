"""The allow-list every rendered article body passes through, so that no staff markup reaches a page.

Whatever Markdown produces goes through nh3 with the few tags and attributes articles need; links keep only
http(s), mailto and tel addresses, images only our own static files. (The first layer, Markdown that escapes
raw HTML, is in `clinic.articles.rendering`.)
"""

from __future__ import annotations

import html
import re

import nh3

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


def html_to_text(html_fragment: str) -> str:
    """The words of an HTML fragment, without any tag (for search and the reading time)."""
    return html.unescape(nh3.clean(html_fragment, tags=set()))
