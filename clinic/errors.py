"""The site's error pages, without the CSRF check Django's own handlers run first.

Django's default handlers carry `requires_csrf_token`, which runs the CSRF middleware again and so reads the
request body again. A body Django refuses to read (a form in latin-1 or UTF-16: only UTF-8 is allowed) then raises
inside the 400 handler, and once more inside the 500 handler: a 500 for anyone. None of these pages has a form, so
they need no token.
"""

import logging
import re
import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader

from clinic.logs import loggable_path

logger = logging.getLogger(__name__)

# How long the "try again in a moment" page asks the browser to wait (a PostgreSQL restart takes seconds).
RETRY_AFTER_SECONDS = 10
# Fields never written back into the page, wherever they come from.
_SECRET = re.compile(r"password|otp|token|secret", re.IGNORECASE)


def bad_request(request, exception):
    return render(request, "400.html", status=400)


def permission_denied(request, exception):
    return render(request, "403.html", status=403)


def page_not_found(request, exception):
    return render(request, "404.html", status=404)


def server_error(request):
    # The database not answering (not a bug such as an IntegrityError, which trying again would not mend).
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        return database_unavailable(request)
    # No request context: whatever failed (the database, a context processor) must not fail this page too.
    return HttpResponseServerError(loader.get_template("500.html").render())


def database_unavailable(request):
    """The database did not answer (a restart, a failover): a 503 that asks the patient to try again in a moment,
    with what they sent kept in the page, so "Try again" sends it once more, unchanged, to the same address. The
    services write in transactions, so nothing of the failed attempt was stored half-way; a request that was
    stored after all is recognised by its journey's idempotency key and not stored twice."""
    try:
        sent = [(name, value) for name, values in request.POST.lists() for value in values]
    except Exception:  # noqa: BLE001 - a body that cannot be read again: the page still helps, without it
        sent = []
    if request.method != "POST" or request.path.startswith(f"/{settings.ADMIN_URL_PATH}"):
        sent = []  # staff sign in again; a password or a code is never written into a page
    sent = [(name, value) for name, value in sent if name == "csrfmiddlewaretoken" or not _SECRET.search(name)]
    logger.warning("database unavailable: %s %s answered 503", request.method, loggable_path(request.path))
    page = loader.get_template("503_database.html").render(
        {
            "clinic_name": settings.CLINIC_NAME,
            "clinic_phone": settings.CLINIC_PHONE,
            "emergency_number": settings.CLINIC_EMERGENCY_NUMBER,
            "posted": bool(sent),
            "fields": sent,
            "action": request.get_full_path(),
            "retry_after": RETRY_AFTER_SECONDS,
        }
    )
    response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # What the patient typed is in the page: never kept by a cache on the way.
    response["Cache-Control"] = "no-store"
    return response
