"""Booking an appointment in a real free slot: the slots offered, the booking itself, staff decisions, reminders.

Slots are laid out in the clinic's time zone (working hours are local wall-clock times) and stored in UTC.
Whether a slot is still free when it is booked is decided by the database alone (the exclusion constraint on
PostgreSQL, triggers on SQLite, see `callbacks.models.Appointment`): two patients who saw the same free slot
both try to insert, and exactly one insert succeeds.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core import signing
from django.urls import reverse

from callbacks.models import Appointment

logger = logging.getLogger(__name__)

# Links in e-mails that cancel an appointment stop working after this long (and once it has started).
CANCEL_LINK_MAX_AGE = dt.timedelta(days=60)
CANCEL_LINK_SALT = "callbacks.booking.cancel"


# Signed links ----------------------------------------------------------------------------------------------


def appointment_cancel_token(appointment: Appointment) -> str:
    return signing.TimestampSigner(salt=CANCEL_LINK_SALT).sign_object({"a": appointment.pk})


def appointment_from_cancel_token(token: str) -> Appointment | None:
    """The appointment a cancel link names, or None when the link is tampered with, expired or unknown."""
    try:
        payload = signing.TimestampSigner(salt=CANCEL_LINK_SALT).unsign_object(token, max_age=CANCEL_LINK_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired is one too
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("a"), int):
        return None
    return Appointment.objects.select_related("service", "practitioner", "request").filter(pk=payload["a"]).first()


def appointment_cancel_url(appointment: Appointment) -> str:
    return settings.SITE_URL + reverse(
        "callbacks:booking_cancel", kwargs={"token": appointment_cancel_token(appointment)}
    )
