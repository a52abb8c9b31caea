"""Numbers that asked for no more texts (STOP): the one record routing consults before writing a text."""

import logging

from django.db import IntegrityError, transaction

from callbacks.models import Notification, TextOptOut

logger = logging.getLogger(__name__)

# Texts that still go to a number that replied STOP, and never wait for quiet hours: the only record of a request
# the patient has just sent (their reference, when they have no e-mail), and the clinic calling off an appointment
# they would otherwise travel to, and what to do now in answer to a red-flag text they have just sent from that
# number. Replies and receipts are not texts we send. (With Twilio's own opt-out handling
# switched on, Twilio refuses even these with error 21610: the row then fails, visibly, and the e-mail, if any,
# still goes.) Routing (`callbacks.notifications.routing`) and quiet hours read it from here.
ESSENTIAL_TEXT_KINDS = frozenset(
    {
        Notification.Kind.PATIENT_CONFIRMATION,
        Notification.Kind.BOOKING_CANCELLED_BY_CLINIC,
        Notification.Kind.TEXT_EMERGENCY_ADVICE,
        Notification.Kind.TEXT_URGENT_ADVICE,
    }
)


def text_opt_out_record(*, phone: str, source: str) -> TextOptOut:
    """Record that ``phone`` (E.164) wants no more non-essential texts. Idempotent: a second STOP (or a receipt
    delivered twice) keeps the first record. Effective at once: texts already queued for the number are checked
    again when the worker takes them (`callbacks.notifications.delivery`)."""
    existing = TextOptOut.objects.filter(phone=phone).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            opt_out = TextOptOut.objects.create(phone=phone, source=source)
    except IntegrityError:
        return TextOptOut.objects.get(phone=phone)  # recorded meanwhile by another STOP
    logger.info("text opt-out %s recorded (%s)", opt_out.pk, source)
    return opt_out


def text_opt_out_remove(*, phone: str) -> bool:
    """The number wants texts again (a START reply, or a new consent given to staff). True when it had opted out."""
    deleted, _ = TextOptOut.objects.filter(phone=phone).delete()
    return bool(deleted)


def text_opted_out(*, phone: str) -> bool:
    return TextOptOut.objects.filter(phone=str(phone)).exists()
