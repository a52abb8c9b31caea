"""Rate limits for the public forms, counted in the shared cache (Redis in production).

Counters are keyed by a keyed hash of who is counted (an address, a phone number), never the value itself, so
the cache holds no personal data. Fixed windows: simple, and a burst at a window's edge is at most twice the
limit, which is fine for stopping floods. A cache that is down counts nothing: the forms stay open (see
clinic/cache.py), since losing a patient's request is worse than letting a flood through for a while.
"""

import hashlib
import hmac
import ipaddress
import time
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render

from clinic.rates import Rate


def client_address(request) -> str:
    """The patient's address: behind CLINIC_PROXY_COUNT proxies, the entry the nearest trusted proxy added."""
    proxies = settings.CLINIC_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def client_network(request) -> str:
    """Who every per-address limit counts (the forms' rate limits, django-axes' sign-in lockouts): an IPv4
    client by its address, an IPv6 client by its /64, written as the network's first address.

    An IPv6 host is normally given a whole /64 and can choose any address in it: counted apart, each address
    would bring fresh tries. An IPv4 address on a dual-stack socket (``::ffff:a.b.c.d``) counts as that IPv4
    address. Anything that is not an address is counted as it is.
    """
    address = client_address(request)
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 4:
        return str(parsed)
    if parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(ipaddress.IPv6Address(int(parsed) >> 64 << 64))


def _key(scope: str, identity: str, rate: Rate) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{scope}:{identity}".encode(), hashlib.sha256).hexdigest()
    window = int(time.time() // rate.seconds)
    return f"ratelimit:{scope}:{digest[:32]}:{window}"


def rate_limit_reached(*, scope: str, identity: str, rate: Rate) -> bool:
    """True when `identity` has already used all of its events in `scope` for this window. Counts nothing: for
    limits that count only what succeeded (a stored request), checked before and counted after."""
    return (cache.get(_key(scope, identity, rate)) or 0) >= rate.count


def rate_limit_retry_at(rate: Rate) -> float:
    """When the current window of ``rate`` ends (a Unix time): a refused patient can try again then."""
    return (int(time.time() // rate.seconds) + 1) * rate.seconds


def rate_limit_exceeded(*, scope: str, identity: str, rate: Rate) -> bool:
    """Count one more event for `identity` in `scope`; True once the count goes over the rate."""
    key = _key(scope, identity, rate)
    cache.add(key, 0, timeout=rate.seconds + 60)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr: start again from this event
        cache.set(key, 1, timeout=rate.seconds + 60)
        count = 1
    return count > rate.count


def too_many_requests(request):
    """The page a limited patient sees: plain words, the phone number, HTTP 429."""
    return render(request, "429.html", status=429)


def limit_posts_per_address(scope: str, rate_setting: str):
    """View decorator: POSTs from one address (an IPv6 /64) beyond the rate in settings.<rate_setting> get the
    429 page."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method == "POST" and rate_limit_exceeded(
                scope=scope, identity=client_network(request), rate=getattr(settings, rate_setting)
            ):
                return too_many_requests(request)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
