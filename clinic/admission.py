"""Past what the site can answer in time, new patients are told so at once and those already filling in a form
go on (issue 28; measured in docs/BENCHMARKS.md#overload-the-busy-page).

The reverse proxy stamps each request with the moment it handed it on (``X-Request-Start: t=<seconds>``,
deploy/nginx/clinic/proxy.conf). gunicorn's sync workers take requests from one queue in the order they came, so how
long this request waited for a worker is how far behind the whole site is. When the wait passes CLINIC_BUSY_WAIT_MS,
a view marked `@admits_new_journeys` (the first page of a request or a booking, where a journey begins) answers the
busy page instead: 503 with Retry-After, the clinic's phone number and the red flags to act on now. It is kept
rendered, costs next to nothing and sets no cookie, so the workers' time goes to the patients already under way,
whose pages and sent forms are never turned away; new arrivals come back when the queue has gone down. Without a
proxy (CLINIC_PROXY_COUNT=0) the header is not trusted and nobody is turned away.

Each turn-away is counted in the cache (shared by every web process in production) for
`clinic_new_journeys_turned_away_total` (/metrics).
"""

import logging
import time
import uuid
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.html import escape

from clinic.public_pages import page_kept

logger = logging.getLogger(__name__)

TURNED_AWAY_KEY = "clinic:admission:turned-away"
RETRY_AFTER_SECONDS = 30
# A stamp further in the past than the proxy waits for an answer (proxy_read_timeout), or in the future, comes
# from clocks that disagree (a proxy on another host): it says nothing about the queue and is ignored.
_PLAUSIBLE_WAIT_SECONDS = 60
# The kept busy page's link back, put in per request.
_ACTION = f"/clinic-busy-try-again-{uuid.uuid4().hex}/"


def request_waited_ms(request, *, now: float | None = None) -> float | None:
    """How long this request waited between the proxy and a worker, in ms; None when unknown or untrusted."""
    if settings.CLINIC_PROXY_COUNT < 1:
        return None
    stamp = request.META.get("HTTP_X_REQUEST_START", "")
    try:
        started = float(stamp.removeprefix("t="))
    except ValueError:
        return None
    waited = (time.time() if now is None else now) - started
    if not 0 <= waited <= _PLAUSIBLE_WAIT_SECONDS:
        return None
    return waited * 1000


def admits_new_journeys(view=None, *, advice: Callable[[], dict] | None = None):
    """Answer the busy page, not `view`, to a new visitor's GET that waited longer than CLINIC_BUSY_WAIT_MS for a
    worker. A browser with a session (a patient under way, or back to the start) is always let through.
    ``advice`` gives the page's red flags and what to do about them (the app's, read when the page is rendered)."""
    if view is None:
        return lambda inner: admits_new_journeys(inner, advice=advice)

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        limit = settings.CLINIC_BUSY_WAIT_MS
        new_visitor = request.method == "GET" and settings.SESSION_COOKIE_NAME not in request.COOKIES
        waited = request_waited_ms(request) if limit > 0 and new_visitor else None
        if waited is None or waited <= limit:
            return view(request, *args, **kwargs)
        turned_away_count()
        logger.warning("busy: a new journey was asked to come back (waited %.0f ms for a worker)", waited)
        response = HttpResponse(_busy_page(request, advice), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response["Cache-Control"] = "no-store"
        # Logged once, above, as a warning: not again by Django as an ERROR for every patient of a surge.
        response._has_been_logged = True
        return response

    return wrapped


def _busy_page(request, advice: Callable[[], dict] | None) -> bytes:
    """The busy page, kept rendered with the public pages (`page_kept`): it must cost the overloaded process next
    to nothing (the same for everyone but its "Try again" link, put in on each request)."""

    def render() -> bytes:
        context = {**(advice() if advice else {}), "retry_after": RETRY_AFTER_SECONDS, "action": _ACTION}
        return render_to_string("busy.html", context, request).encode()

    page = page_kept(f"busy:{advice.__module__}.{advice.__qualname__}" if advice else "busy", render)
    return page.replace(_ACTION.encode(), escape(request.get_full_path()).encode())


def turned_away_count() -> None:
    try:
        try:
            cache.incr(TURNED_AWAY_KEY)
        except ValueError:  # the first one since the cache was emptied
            cache.add(TURNED_AWAY_KEY, 0, timeout=None)
            cache.incr(TURNED_AWAY_KEY)
    except Exception:  # noqa: BLE001 - the cache being down must not turn the busy page into an error
        logger.warning("busy: the turn-away could not be counted (cache unavailable)")


def turned_away_total() -> int | None:
    """New journeys asked to come back since the cache was last emptied (a counter for Prometheus); None when the
    cache does not answer (a read that fails is not a reset to 0)."""
    try:
        value = cache.get(TURNED_AWAY_KEY)
    except Exception:  # noqa: BLE001 - read by /metrics, which must answer without the cache
        return None
    if value is None:
        # Never counted, or the cache was emptied or is down (the shared cache answers a failed read as a miss):
        # tell the two apart by whether it can be written.
        return 0 if cache.add(TURNED_AWAY_KEY, 0, timeout=None) else None
    return int(value)
