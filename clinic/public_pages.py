"""Public pages for anonymous visitors: rendered once per web process, served from memory with HTTP caching.

Patients arrive from search engines and newsletters on the home page, the articles and the booking page, often
many at once. For a visitor who carries no session (no session or messages cookie), a page marked `@public_page`
is rendered once per web process and kept in memory with its headers, keyed on the public pages' shared version.
`PublicPageMiddleware`, placed right after WhiteNoise, answers a repeated view from that memory before the
session, CSRF, authentication and CSP middleware run: no database work, no template rendering and almost no
middleware, which keeps these pages near a bare Django project's speed (docs/BENCHMARKS.md). Such a response
carries an ETag and a Last-Modified date (answered with 304 Not Modified when the browser or the proxy already
has the page) and a short public `Cache-Control` (CLINIC_PUBLIC_PAGE_MAX_AGE), so the reverse proxy and
browsers may keep it briefly.

A visitor with a session (staff signed in, a patient in the middle of a request) gets a fresh render, and every
response that is not such a public page is marked `no-store` (by the same middleware), so nothing personal is
ever kept by a proxy or a browser. A response that sets a cookie is `no-store` whatever the view said.

`@public_form_page` is for a form's first page: kept in memory the same way, but the CSRF token is the
visitor's own (put into the stored page on each request), and the page is `no-store`.

Staff edits reach every process quickly: a write calls `public_pages_changed()`, which changes the shared
version (in Redis in production) once the transaction commits; each process re-reads it at most every
VERSION_RECHECK_SECONDS. Old pages are never served after that; they simply drop out of the memory.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils.cache import get_conditional_response, patch_cache_control, quote_etag
from django.utils.http import http_date

VERSION_KEY = "clinic:public-pages:version"
VERSION_RECHECK_SECONDS = 5
MEMORY_MAX_ENTRIES = 200
# Stands for the visitor's own CSRF token in a stored form page; never sent to anyone.
_CSRF_PLACEHOLDER = b"csrf-token-of-this-visitor-" + uuid.uuid4().hex.encode()
_CSRF_INPUT_RE = re.compile(rb'name="csrfmiddlewaretoken" value="([A-Za-z0-9]+)"')


@dataclass(frozen=True)
class StoredPage:
    content: bytes
    # As the whole middleware stack left them on the first render (CSP, X-Frame-Options, Content-Type, ...),
    # without cookies; SecurityMiddleware, outside PublicPageMiddleware, adds its own to every answer.
    headers: tuple[tuple[str, str], ...]
    etag: str
    reads: tuple[str, ...] = ()


# The shared version: "<unix time of the change>-<random>", so that Last-Modified is the same in every process.


def _version_shared() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, f"{int(time.time())}-{uuid.uuid4().hex}", timeout=None)
        version = cache.get(VERSION_KEY, "none")
    return version


def public_pages_version() -> str:
    """The shared version of the public pages' content (also a key part for other cached public data)."""
    return _version_shared()


def public_pages_changed() -> None:
    """Make every stored public page stale, once the current transaction (if any) commits.

    After the commit, not before: a page rendered between the write and the commit would otherwise keep the
    old content under the new version. This process sees the change at once, the others within
    VERSION_RECHECK_SECONDS."""

    def change():
        cache.set(VERSION_KEY, f"{int(time.time())}-{uuid.uuid4().hex}", timeout=None)
        _version["checked_at"] = None

    transaction.on_commit(change)


_version: dict = {"value": "", "checked_at": None}
_memory: OrderedDict[tuple[str, str], StoredPage] = OrderedDict()
_memory_lock = threading.Lock()


def _version_current() -> str:
    now = time.monotonic()
    if _version["checked_at"] is None or now - _version["checked_at"] > VERSION_RECHECK_SECONDS:
        _version["value"] = _version_shared()
        _version["checked_at"] = now
    return _version["value"]


def _version_changed_at(version: str) -> int | None:
    changed_at, _, _ = version.partition("-")
    return int(changed_at) if changed_at.isdigit() else None


def public_pages_forget() -> None:
    """Empty this process's page memory (tests, which empty the shared cache between them too)."""
    with _memory_lock:
        _memory.clear()
    _version["checked_at"] = None


def _memory_get(key: tuple[str, str]) -> StoredPage | None:
    with _memory_lock:
        page = _memory.get(key)
        if page is not None:
            _memory.move_to_end(key)
        return page


def _memory_put(key: tuple[str, str], page: StoredPage) -> None:
    with _memory_lock:
        _memory[key] = page
        while len(_memory) > MEMORY_MAX_ENTRIES:
            _memory.popitem(last=False)


def page_kept(name: str, render: Callable[[], bytes]) -> bytes:
    """The page ``render`` makes, kept in this process's memory under the shared content version like the public
    pages (so a staff edit makes it stale): for a page that is the same for everyone and must cost next to nothing
    (clinic/admission.py's busy page)."""
    key = (_version_current(), f"kept:{name}")
    page = _memory_get(key)
    if page is None:
        page = StoredPage(content=render(), headers=(), etag="")
        _memory_put(key, page)
    return page.content


# Which requests and responses may use the memory


def _anonymous_visit(request) -> bool:
    """A GET or HEAD from a visitor who carries no session and no pending messages: a session may hold a
    signed-in user or messages to show, so such a visitor always gets a fresh page."""
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and CookieStorage.cookie_name not in request.COOKIES
    )


def _reads_any(request, reads: tuple[str, ...]) -> bool:
    """Whether the request has a value for a query parameter the view reads. The view ignores every other one
    (a newsletter's utm_source=...), so the page is the same with or without it, and one entry per path is kept
    whatever the query string: nobody can fill the memory with variants."""
    return bool(reads) and any(request.GET.get(name) for name in reads)


def _keepable(request, response) -> bool:
    if callable(getattr(response, "render", None)) and not response.is_rendered:
        response.render()  # a TemplateResponse (the sitemap): its content is what we keep
    session = getattr(request, "session", None)
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not (session is not None and session.modified)
    )


def _etag(content: bytes) -> str:
    return quote_etag(hashlib.blake2b(content, digest_size=16).hexdigest())


# Public pages


def public_page(view=None, *, reads: tuple[str, ...] = ()):
    """Mark `view`'s page as the same for every visitor without a session: PublicPageMiddleware keeps it in
    memory and answers it with ETag, Last-Modified, 304 and a short public Cache-Control. The page may depend on
    no query parameter but those named in `reads` (a request with one of them is rendered afresh, no-store).

    Use as `@public_page` or `@public_page(reads=("q",))`."""
    if view is None:
        return lambda view: public_page(view, reads=reads)

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if _anonymous_visit(request) and not _reads_any(request, reads):
            response.public_page_reads = reads
        return response

    wrapped.is_public_page = True  # the proxy looks such pages up in its cache (tests/clinic/test_public_pages.py)
    return wrapped


def _public_response(request, page: StoredPage, *, last_modified: int | None) -> HttpResponse:
    response = HttpResponse(page.content)
    for name, value in page.headers:
        response[name] = value
    response["ETag"] = page.etag
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified)
    patch_cache_control(response, public=True, max_age=settings.CLINIC_PUBLIC_PAGE_MAX_AGE)
    return get_conditional_response(request, etag=page.etag, last_modified=last_modified, response=response)


class PublicPageMiddleware:
    """Answers a public page from memory before the rest of the middleware runs, keeps a public page the view
    rendered, and marks every other response `no-store` (as well as any response setting a cookie).

    Placed after WhiteNoise (static files keep their long-lived headers) and before the session middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        version = None
        if _anonymous_visit(request):
            request.get_host()  # an unknown Host is refused (400) here as CommonMiddleware would
            version = _version_current()  # read before rendering: see public_pages_changed
            page = _memory_get((version, request.path))
            if page is not None and not _reads_any(request, page.reads):
                return _public_response(request, page, last_modified=_version_changed_at(version))
        response = self.get_response(request)
        reads = getattr(response, "public_page_reads", None)
        if (
            version is not None
            and reads is not None
            and _keepable(request, response)
            # A page that asked for a CSRF token holds a form tied to this visitor: never shared.
            and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        ):
            page = StoredPage(
                content=response.content,
                headers=tuple(response.items()),
                etag=_etag(response.content),
                reads=reads,
            )
            _memory_put((version, request.path), page)
            return _public_response(request, page, last_modified=_version_changed_at(version))
        if response.cookies or not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response


# The first page of a form


def public_form_page(view=None, *, vary: Callable[[], str] | None = None):
    """Serve `view`'s form page to anonymous visitors from this process's memory, with the visitor's own CSRF
    token put in on every request. Not cacheable elsewhere: the token belongs to the visitor (no-store).

    ``vary`` names what else the page shows that can change without a new content version (whether online
    requests are taken now, say): a page is kept per value it returns, read on every visit."""
    if view is None:
        return lambda inner: public_form_page(inner, vary=vary)

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not _anonymous_visit(request):
            return view(request, *args, **kwargs)
        # Apart from the public pages' keys: PublicPageMiddleware must never find a form page.
        key = (_version_current(), f"form:{request.path}", vary() if vary else "")
        page = _memory_get(key)
        if page is None:
            response = view(request, *args, **kwargs)
            if not _keepable(request, response):
                return response
            tokens = set(_CSRF_INPUT_RE.findall(response.content))
            if len(tokens) != 1:  # no form token, or more than one: not a page this decorator understands
                return response
            content = response.content.replace(tokens.pop(), _CSRF_PLACEHOLDER)
            _memory_put(
                key, StoredPage(content=content, headers=(("Content-Type", response["Content-Type"]),), etag="")
            )
            return response
        response = HttpResponse(page.content.replace(_CSRF_PLACEHOLDER, get_token(request).encode()))
        for name, value in page.headers:
            response[name] = value
        response["Cache-Control"] = "no-store"
        return response

    return wrapped
