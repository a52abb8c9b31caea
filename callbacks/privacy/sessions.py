"""Where a patient's unfinished answers live, and how erasure and retention reach them.

Until a request is sent, its questionnaire answers and contact choices are kept in the patient's server-side
session (Django's database session store, the `django_session` table), never in a URL or a cookie. A session
ends SESSION_COOKIE_AGE (12 hours) after the flow last saved a page, and the nightly jobs delete ended sessions.

A request sent from a session, or whose follow-up was answered in it, is marked in it (its reference under
SESSION_REQUESTS_KEY), so that erasing the patient also deletes the session: the flows it still holds (a second
request started and not finished, the answers of the sent one, the reference and advice shown after a follow-up)
go with the request.
"""

import datetime as dt

from django.contrib.sessions.models import Session
from django.utils import timezone

SESSION_REQUESTS_KEY = "privacy_request_references"


def session_request_mark(session, *, reference: str) -> None:
    """Remember in the patient's session that it sent the request ``reference`` (see `sessions_of_request_delete`)."""
    references = list(session.get(SESSION_REQUESTS_KEY, []))
    if reference not in references:
        session[SESSION_REQUESTS_KEY] = [*references, reference]


def sessions_of_request_delete(*, reference: str, now: dt.datetime | None = None) -> int:
    """Delete every live session that sent the request ``reference``, with all it holds; return how many.

    Live sessions are those of the last SESSION_COOKIE_AGE: few, and each is decoded once.
    """
    now = now or timezone.now()
    matching = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=now).iterator()
        if reference in session.get_decoded().get(SESSION_REQUESTS_KEY, ())
    ]
    return Session.objects.filter(pk__in=matching).delete()[0]


def sessions_expired_delete(*, now: dt.datetime | None = None) -> int:
    """Delete sessions that have ended, with the unfinished answers they held; return how many."""
    return Session.objects.filter(expire_date__lte=now or timezone.now()).delete()[0]
