"""Each practitioner's calendar feed: an iCalendar file of their appointments at a secret, revocable address.

The address carries a random secret; only its SHA-256 is stored, so a copy of the database does not open
anyone's feed, and a new secret (or a revocation) stops the old address at once, as does deactivating or
deleting the practitioner's staff account or making the practitioner inactive. The feed holds the
reference and the time of each appointment and nothing about the patient's health; the patient's name only
when the clinic turns on CLINIC_CALENDAR_FEED_NAMES.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event

from callbacks.models import Appointment, Practitioner

logger = logging.getLogger(__name__)

FEED_PAST = dt.timedelta(days=14)
FEED_AHEAD = dt.timedelta(days=120)
# token_urlsafe(32) gives 43 characters; anything much longer is not one of ours.
TOKEN_MAX_LENGTH = 64


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def practitioner_feed_issue(*, practitioner: Practitioner) -> str:
    """A new secret for the practitioner's feed; the previous address stops working. Returns the secret,
    which is not stored and cannot be shown again."""
    token = secrets.token_urlsafe(32)
    practitioner.calendar_feed_digest = _digest(token)
    practitioner.save(update_fields=["calendar_feed_digest"])
    logger.info("calendar feed issued for practitioner %s", practitioner.pk)
    return token


def practitioner_feed_revoke(*, practitioner: Practitioner) -> None:
    """Stop the practitioner's feed address; nothing opens it any more."""
    practitioner.calendar_feed_digest = ""
    practitioner.save(update_fields=["calendar_feed_digest"])
    logger.info("calendar feed revoked for practitioner %s", practitioner.pk)


def practitioner_from_feed_token(token: str) -> Practitioner | None:
    """The practitioner whose feed this secret opens, while they still work here: the practitioner active and
    their staff account existing and active. Someone who left keeps no view of the diary through an address
    subscribed on a personal phone."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    return Practitioner.objects.filter(
        calendar_feed_digest=_digest(token), active=True, user__isnull=False, user__is_active=True
    ).first()


def practitioner_feed_url(token: str) -> str:
    return settings.SITE_URL + reverse("callbacks:calendar_feed", kwargs={"token": token})


def practitioner_feed_ics(*, practitioner: Practitioner, now: dt.datetime | None = None) -> bytes:
    """The practitioner's requested and confirmed appointments from two weeks ago to four months ahead."""
    now = now or timezone.now()
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
    calendar = Calendar()
    calendar.add("prodid", f"-//{settings.CLINIC_NAME}//Diary//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"{settings.CLINIC_NAME}: {practitioner.name}")
    appointments = (
        Appointment.objects.holding()
        .filter(practitioner=practitioner, starts_at__gte=now - FEED_PAST, starts_at__lt=now + FEED_AHEAD)
        .select_related("request")
        .order_by("starts_at")
    )
    for appointment in appointments:
        reference = appointment.request.reference
        summary = reference
        if settings.CLINIC_CALENDAR_FEED_NAMES:
            summary = f"{appointment.request.name} ({reference})"
        confirmed = appointment.status == Appointment.Status.CONFIRMED
        event = Event()
        event.add("uid", f"appointment-{appointment.pk}@{domain}")
        event.add("dtstamp", now)
        event.add("dtstart", appointment.starts_at)
        event.add("dtend", appointment.ends_at)
        event.add("summary", summary if confirmed else f"{summary} (not confirmed yet)")
        event.add("status", "CONFIRMED" if confirmed else "TENTATIVE")
        event.add("transp", "OPAQUE")
        calendar.add_component(event)
    return calendar.to_ical()
