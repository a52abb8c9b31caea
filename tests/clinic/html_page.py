"""A small reader for the pages under test: what a browser or a search engine would pick out of the HTML."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Page:
    title: str = ""
    meta: dict[str, str] = field(default_factory=dict)
    canonical: str | None = None
    json_ld: list[str] = field(default_factory=list)
    scripts: list[dict[str, str | None]] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    images: list[dict[str, str | None]] = field(default_factory=list)
    headings: list[tuple[str, str]] = field(default_factory=list)
    inline_styles: int = 0
    event_handlers: list[str] = field(default_factory=list)


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._in_title = False
        self._heading: str | None = None
        self._heading_text: list[str] = []
        self._script_type: str | None = None
        self._script_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.page.ids.append(attributes["id"])
        if "style" in attributes:
            self.page.inline_styles += 1
        self.page.event_handlers += [name for name in attributes if name.startswith("on")]
        if tag == "title":
            self._in_title = True
        elif tag == "meta" and "name" in attributes:
            self.page.meta[attributes["name"]] = attributes.get("content") or ""
        elif tag == "link" and attributes.get("rel") == "canonical":
            self.page.canonical = attributes.get("href")
        elif tag == "a" and "href" in attributes:
            self.page.links.append(attributes["href"])
        elif tag == "img":
            self.page.images.append(attributes)
        elif tag == "script":
            self.page.scripts.append(attributes)
            self._script_type = attributes.get("type") or "text/javascript"
            self._script_text = []
        elif tag in {"h1", "h2", "h3"}:
            self._heading, self._heading_text = tag, []

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        elif tag == "script":
            if self._script_type == "application/ld+json":
                self.page.json_ld.append("".join(self._script_text))
            self._script_type = None
        elif tag == self._heading:
            self.page.headings.append((tag, " ".join("".join(self._heading_text).split())))
            self._heading = None

    def handle_data(self, data):
        if self._in_title:
            self.page.title += data
        if self._script_type is not None:
            self._script_text.append(data)
        if self._heading is not None:
            self._heading_text.append(data)


def page_read(response) -> Page:
    reader = _Reader()
    reader.feed(response.content.decode())
    reader.close()
    reader.page.title = " ".join(reader.page.title.split())
    return reader.page
