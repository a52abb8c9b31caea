"""Signed links in booking e-mails: the token that names an appointment, its expiry and the address it opens."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core import signing
from django.urls import reverse

from callbacks.models import Appointment, WaitlistOffer

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


# A reschedule link names the appointment and the revision it was sent for: once the appointment moves (its
# revision rises), every earlier link stops working, so a link moves an appointment at most once.
RESCHEDULE_LINK_MAX_AGE = dt.timedelta(days=60)
RESCHEDULE_LINK_SALT = "callbacks.booking.reschedule"


def appointment_reschedule_token(appointment: Appointment) -> str:
    return signing.TimestampSigner(salt=RESCHEDULE_LINK_SALT).sign_object(
        {"a": appointment.pk, "r": appointment.revision}
    )


def appointment_from_reschedule_token(token: str) -> tuple[Appointment, int] | None:
    """(appointment, revision the link was sent for), or None when the link is tampered with, expired or
    unknown. The caller compares the revision: a link for an earlier revision has been used."""
    try:
        payload = signing.TimestampSigner(salt=RESCHEDULE_LINK_SALT).unsign_object(
            token, max_age=RESCHEDULE_LINK_MAX_AGE
        )
    except signing.BadSignature:
        return None
    if not (isinstance(payload, dict) and isinstance(payload.get("a"), int) and isinstance(payload.get("r"), int)):
        return None
    appointment = (
        Appointment.objects.select_related("service", "practitioner", "request").filter(pk=payload["a"]).first()
    )
    return (appointment, payload["r"]) if appointment is not None else None


def appointment_reschedule_url(appointment: Appointment) -> str:
    return settings.SITE_URL + reverse(
        "callbacks:booking_reschedule", kwargs={"token": appointment_reschedule_token(appointment)}
    )


# A waitlist offer's link: it stops working when the offer is decided (accepted, or the slot went to someone
# else) or the slot has started, and in any case after this long.
WAITLIST_OFFER_LINK_MAX_AGE = dt.timedelta(days=14)
WAITLIST_OFFER_LINK_SALT = "callbacks.booking.waitlist_offer"


def waitlist_offer_token(offer: WaitlistOffer) -> str:
    return signing.TimestampSigner(salt=WAITLIST_OFFER_LINK_SALT).sign_object({"o": offer.pk})


def waitlist_offer_from_token(token: str) -> WaitlistOffer | None:
    try:
        payload = signing.TimestampSigner(salt=WAITLIST_OFFER_LINK_SALT).unsign_object(
            token, max_age=WAITLIST_OFFER_LINK_MAX_AGE
        )
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("o"), int):
        return None
    return (
        WaitlistOffer.objects.select_related("entry__service", "practitioner", "appointment__request")
        .filter(pk=payload["o"])
        .first()
    )


def waitlist_offer_url(offer: WaitlistOffer) -> str:
    return settings.SITE_URL + reverse("callbacks:waitlist_offer", kwargs={"token": waitlist_offer_token(offer)})
