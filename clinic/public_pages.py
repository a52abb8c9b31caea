"""Public pages for anonymous visitors: rendered once per web process, served from memory with HTTP caching.

Patients arrive from search engines and newsletters on the home page, the articles and the booking page, often
many at once. For a visitor who carries no session (no session or messages cookie), a page marked `@public_page`
is rendered once per web process and kept in memory, keyed on the public pages' shared version. Repeated views
cost no database work and no template rendering, which keeps them near a bare Django view's speed
(docs/BENCHMARKS.md). Such a response carries an ETag and a Last-Modified date
(answered with 304 Not Modified when the browser or the proxy already has the page) and a short public
`Cache-Control` (CLINIC_PUBLIC_PAGE_MAX_AGE), so the reverse proxy and browsers may keep it briefly.

A visitor with a session (staff signed in, a patient in the middle of a request) gets a fresh render, and every
response that is not such a public page is marked `no-store` (`NoStoreByDefaultMiddleware`), so nothing
personal is ever kept by a proxy or a browser. A response that sets a cookie is `no-store` whatever the view
said.

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
    content_type: str
    etag: str


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


# Which requests and responses may use the memory


def _anonymous_visit(request, *, reads: tuple[str, ...] = ()) -> bool:
    """A GET or HEAD from a visitor who carries no session and no pending messages, without any of the query
    parameters the view `reads`.

    The view ignores any other parameter (a newsletter's utm_source=...), so the page is the same with or without
    it, and one entry per path is kept whatever the query string: nobody can fill the memory with variants. A
    session may hold a signed-in user or messages to show, so such a visitor always gets a fresh page."""
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and CookieStorage.cookie_name not in request.COOKIES
        and not (reads and any(request.GET.get(name) for name in reads))
    )


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


def _stored(response, content: bytes) -> StoredPage:
    etag = quote_etag(hashlib.blake2b(content, digest_size=16).hexdigest())
    return StoredPage(content=content, content_type=response["Content-Type"], etag=etag)


# The decorators


def public_page(view=None, *, reads: tuple[str, ...] = ()):
    """Serve `view`'s page to anonymous visitors from this process's memory, with ETag, Last-Modified, 304
    answers and a short public Cache-Control. The page must be the same for every visitor without a session,
    and depend on no query parameter but those named in `reads` (a request with one of them goes to the view).

    Use as `@public_page` or `@public_page(reads=("q",))`."""
    if view is None:
        return lambda view: public_page(view, reads=reads)

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not _anonymous_visit(request, reads=reads):
            return view(request, *args, **kwargs)
        version = _version_current()
        key = (version, request.path)
        page = _memory_get(key)
        if page is None:
            response = view(request, *args, **kwargs)
            # A page that asked for a CSRF token holds a form tied to this visitor: never shared.
            if not _keepable(request, response) or request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
                return response
            page = _stored(response, response.content)
            _memory_put(key, page)
        return _public_response(request, page, last_modified=_version_changed_at(version))

    return wrapped


def _public_response(request, page: StoredPage, *, last_modified: int | None) -> HttpResponse:
    response = HttpResponse(page.content, content_type=page.content_type)
    response["ETag"] = page.etag
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified)
    patch_cache_control(response, public=True, max_age=settings.CLINIC_PUBLIC_PAGE_MAX_AGE)
    return get_conditional_response(request, etag=page.etag, last_modified=last_modified, response=response)


def public_form_page(view):
    """Serve `view`'s form page to anonymous visitors from this process's memory, with the visitor's own CSRF
    token put in on every request. Not cacheable elsewhere: the token belongs to the visitor (no-store)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not _anonymous_visit(request):
            return view(request, *args, **kwargs)
        key = (_version_current(), request.path)
        page = _memory_get(key)
        if page is None:
            response = view(request, *args, **kwargs)
            if not _keepable(request, response):
                return response
            tokens = set(_CSRF_INPUT_RE.findall(response.content))
            if len(tokens) != 1:  # no form token, or more than one: not a page this decorator understands
                return response
            page = _stored(response, response.content.replace(tokens.pop(), _CSRF_PLACEHOLDER))
            _memory_put(key, page)
            return response
        response = HttpResponse(
            page.content.replace(_CSRF_PLACEHOLDER, get_token(request).encode()), content_type=page.content_type
        )
        response["Cache-Control"] = "no-store"
        return response

    return wrapped


class NoStoreByDefaultMiddleware:
    """Every response that did not choose its own caching is `no-store`, and so is any response setting a
    cookie: pages for a session (forms, confirmations, the admin) are never kept by a proxy or a browser.

    Placed after WhiteNoise, whose static files keep their long-lived headers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.cookies or not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response
