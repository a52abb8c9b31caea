"""What a log line may say about a request: the route it matched, never the path or the query string.

Paths and query strings carry personal data: staff searches by phone or name (`?q=07400...`), patients' article
searches, the cancel links' tokens (`/book/cancel/<token>/`, good for 60 days) and the red-flag advice page,
which next to an address says that someone has an emergency. Every log line that names a request (gunicorn's
access log, its error log, Django's `django.request` and `django.security` warnings) names it by
`loggable_path()`: the URL pattern with its placeholders (`/book/cancel/<str:token>/`), a fixed word for the
red-flag pages, and nothing of a path that matches no page.
"""

import logging

from gunicorn.glogging import Logger

# Pages whose mere visit is health information (the emergency advice; a safety question asked again because of
# what the patient wrote): logged under this word instead of their route.
PRIVATE_ROUTES = {"callbacks:emergency", "callbacks:recheck", "callbacks:prepare_check"}
PRIVATE_ROUTE = "[patient advice page]"
UNMATCHED = "[no such page]"


def loggable_path(path: str) -> str:
    from django.conf import settings
    from django.urls import Resolver404, resolve

    path = path.split("?", 1)[0]
    static_prefix = "/" + settings.STATIC_URL.lstrip("/")
    if path.startswith(static_prefix):
        return static_prefix + "*"
    try:
        match = resolve(path)
    except (Resolver404, ValueError):
        return UNMATCHED
    if match.view_name in PRIVATE_ROUTES:
        return PRIVATE_ROUTE
    return "/" + (match.route or "")


class RequestPathFilter(logging.Filter):
    """Replaces the request's path in Django's request and security log lines by its loggable form."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if request is not None and isinstance(record.args, tuple):
            raw = {request.path, request.get_full_path()}
            record.args = tuple(loggable_path(arg) if arg in raw else arg for arg in record.args)
        return True


# Gunicorn's atoms that are safe as they are; the path and request line are rewritten, the rest (the client's
# address, the referrer with its query string, every header and environment variable) are left out.
_SAFE_ATOMS = ("t", "s", "m", "H", "b", "B", "T", "D", "M", "L", "p")


def _loggable_arg(value):
    return loggable_path(value) if isinstance(value, str) and value.startswith("/") else value


class GunicornLogger(Logger):
    """gunicorn's logger with loggable paths only, in its access log and in its own error messages."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        path = loggable_path(environ.get("PATH_INFO", ""))
        safe = {key: atoms[key] for key in _SAFE_ATOMS}
        safe.update(U=path, r=f"{atoms['m']} {path} {atoms['H']}", q="-", h="-", l="-", u="-", f="-", a="-")
        return safe

    def exception(self, msg, *args, **kwargs):
        super().exception(msg, *map(_loggable_arg, args), **kwargs)

    def error(self, msg, *args, **kwargs):
        super().error(msg, *map(_loggable_arg, args), **kwargs)

    def warning(self, msg, *args, **kwargs):
        # "Invalid request from ip=...: <the request line as sent>": the address and the line both stay out.
        if isinstance(msg, str) and msg.startswith("Invalid request from"):
            msg, args = "Invalid request refused", ()
        super().warning(msg, *map(_loggable_arg, args), **kwargs)
