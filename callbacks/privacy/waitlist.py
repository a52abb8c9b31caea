"""A patient's waitlist entries, for their data download and their erasure.

A waitlist entry is not tied to a request: the patient gives their details again when they join. An entry is
the patient's when it has the request's phone number and also its e-mail address or its name (a booking from an
offer copies all three). A phone number alone is not enough: a household may share one, and a relative's entry
must neither be handed to the patient nor erased with their data.
"""

import logging

from django.db.models import Q, QuerySet

from callbacks.models import CallbackRequest, PrivacyLogEntry, WaitlistEntry

logger = logging.getLogger(__name__)


def waitlist_entries_of_request(*, request: CallbackRequest) -> QuerySet[WaitlistEntry]:
    """The entries of the patient who sent ``request`` (same phone, and the same e-mail or name, ignoring case),
    oldest first, with their service and practitioner."""
    same_person = Q(name__iexact=request.name.strip())
    if request.email:
        same_person |= Q(email__iexact=request.email.strip())
    return (
        WaitlistEntry.objects.filter(same_person, phone=request.phone)
        .select_related("service", "practitioner")
        .order_by("created_at", "pk")
    )


def waitlist_entry_erase(*, entry: WaitlistEntry, actor) -> PrivacyLogEntry:
    """Delete a waitlist entry with its offers and their e-mails (a patient's erasure request). What remains is
    one privacy log entry: the reference, who, when. A booking made from an offer is a request of its own, erased
    from the request's page (which erases the patient's entries with it: `callback_request_erase`)."""
    reference = entry.reference
    WaitlistEntry.objects.filter(pk=entry.pk).delete()
    logger.info("waitlist entry %s erased by user %s", reference, actor.pk)
    return PrivacyLogEntry.objects.create(action=PrivacyLogEntry.Action.ERASED, reference=reference, actor=actor)
