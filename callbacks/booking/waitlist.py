"""The waitlist: patients who found no suitable time, offered the slots that free up.

When a practitioner's time frees up (`callbacks.booking.events.slot_freed`: a cancellation, a decline, a move),
the waiting patients whose wishes fit it (service, practitioner if they named one, weekday) are offered it in
the order they joined, up to ``CLINIC_WAITLIST_OFFERS_PER_SLOT`` of them, each by an e-mail with a signed link
(an outbox row, sent by Celery). The offers are written in the transaction that frees the time. The first
patient to accept books the slot through `appointment_book`, so the database's no-overlap guarantee decides
between two acceptances at the same instant; the others find the offer gone.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from callbacks.booking.services import appointment_book
from callbacks.booking.slots import Slot, SlotTaken, slots_free
from callbacks.models import Appointment, PrivacyLogEntry, Service, WaitlistEntry, WaitlistOffer
from callbacks.notifications.outbox import notification_for_waitlist_offer
from callbacks.requests.consent import consent_text_sha256
from callbacks.requests.references import reference_generate
from clinic.hours import clinic_zone

logger = logging.getLogger(__name__)

REFERENCE_ATTEMPTS = 10
# The booking's "reason" when it comes from an offer: what staff read, nothing about health.
BOOKED_FROM_WAITLIST = "Booked from the waitlist ({reference})."


class OfferGone(Exception):
    """The offer can no longer be accepted: someone else took the slot, it was decided, or it has started."""


# Joining ------------------------------------------------------------------------------------------------------


def waitlist_entry_join(
    *,
    service: Service,
    practitioner_id: int | None,
    weekdays: str,
    name: str,
    phone: str,
    email: str,
    consent_version: str,
    text_consent_version: str = "",
    phone_relay_prefix: str = "",
) -> WaitlistEntry:
    """Put a patient on the waitlist for ``service`` (optionally one practitioner, some weekdays as digits,
    Monday 0). The entry has a unique reference and records the consent shown, and the texts wording agreed to."""
    now = timezone.now()
    entry = WaitlistEntry(
        service=service,
        practitioner_id=practitioner_id,
        weekdays="".join(sorted(set(weekdays))),
        name=name,
        phone=phone,
        phone_relay_prefix=phone_relay_prefix,
        email=email,
        text_consent_version=text_consent_version,
        text_consent_given_at=now if text_consent_version else None,
        consent_version=consent_version,
        consent_text_sha256=consent_text_sha256(consent_version),
        consent_given_at=now,
    )
    for _ in range(REFERENCE_ATTEMPTS):
        entry.reference = reference_generate("WL")
        try:
            with transaction.atomic():
                entry.save()
        except IntegrityError:
            if not WaitlistEntry.objects.filter(reference=entry.reference).exists():
                raise
            continue
        logger.info("waitlist entry %s joined (id %s)", entry.reference, entry.pk)
        return entry
    raise RuntimeError("Could not find a free waitlist reference.")


# Offering a freed slot ----------------------------------------------------------------------------------------


def waitlist_entries_for_slot(*, practitioner_id: int, starts_at: dt.datetime) -> QuerySet[WaitlistEntry]:
    """Waiting entries this practitioner's time could suit, in the order they joined (weekday and service
    length are checked by the caller)."""
    weekday = str(starts_at.astimezone(clinic_zone()).weekday())
    return (
        WaitlistEntry.objects.filter(
            status=WaitlistEntry.Status.WAITING,
            service__active=True,
            service__practitioners=practitioner_id,
        )
        .filter(Q(practitioner__isnull=True) | Q(practitioner_id=practitioner_id))
        .filter(Q(weekdays="") | Q(weekdays__contains=weekday))
        .select_related("service")
        .order_by("created_at", "pk")
    )


def _free_slot_at(service: Service, practitioner_id: int, starts_at: dt.datetime, now: dt.datetime) -> Slot | None:
    day = starts_at.astimezone(clinic_zone()).date()
    for slot in slots_free(service=service, now=now, first_day=day, days=1, practitioner_id=practitioner_id):
        if slot.starts_at == starts_at:
            return slot
    return None


def waitlist_offer_slot(
    *, practitioner_id: int, starts_at: dt.datetime, now: dt.datetime | None = None
) -> list[WaitlistOffer]:
    """Offer the time from ``starts_at`` with this practitioner to the waiting patients it suits, in order.

    An entry is offered the slot of its own service starting then, if that slot is free (working hours,
    closures, notice, no other appointment). Call inside the transaction that freed the time; the e-mails are
    queued after commit. An entry is never offered the same slot twice.
    """
    now = now or timezone.now()
    free: dict[int, Slot | None] = {}
    offers = []
    for entry in waitlist_entries_for_slot(practitioner_id=practitioner_id, starts_at=starts_at):
        if len(offers) >= settings.CLINIC_WAITLIST_OFFERS_PER_SLOT:
            break
        if entry.service_id not in free:
            free[entry.service_id] = _free_slot_at(entry.service, practitioner_id, starts_at, now)
        slot = free[entry.service_id]
        if slot is None:
            continue
        offer, created = WaitlistOffer.objects.get_or_create(
            entry=entry,
            practitioner_id=practitioner_id,
            starts_at=slot.starts_at,
            defaults={"ends_at": slot.ends_at},
        )
        if created:
            offers.append(offer)
    for offer in offers:
        notification_for_waitlist_offer(offer)
    if offers:
        logger.info("offered a freed slot to %s waitlist entr(ies)", len(offers))
    return offers


def slot_freed_receiver(sender, *, practitioner_id: int, starts_at: dt.datetime, ends_at: dt.datetime, **kwargs):
    """Connected to `callbacks.booking.events.slot_freed` (in the app's ready())."""
    waitlist_offer_slot(practitioner_id=practitioner_id, starts_at=starts_at)


# Accepting an offer -------------------------------------------------------------------------------------------


def waitlist_offer_open(offer: WaitlistOffer, *, now: dt.datetime | None = None) -> bool:
    """Whether the offer can still be taken: undecided, its patient still waiting, the slot ahead and not held
    by an appointment (another patient may have taken it a moment ago)."""
    return (
        offer.status == WaitlistOffer.Status.OFFERED
        and offer.entry.status == WaitlistEntry.Status.WAITING
        and offer.starts_at > (now or timezone.now())
        and not Appointment.objects.holding()
        .filter(practitioner_id=offer.practitioner_id, starts_at__lt=offer.ends_at, ends_at__gt=offer.starts_at)
        .exists()
    )


def waitlist_offer_accept(*, offer: WaitlistOffer, now: dt.datetime | None = None) -> Appointment:
    """Book the offered slot for the offer's patient, as a booking request staff confirm like any other.

    Raises OfferGone when the offer is no longer open or the slot was taken first (then the offer is marked
    gone). On success the offer is accepted, the entry booked, its other offers gone, and then the other
    patients' offers of this slot are marked gone too.

    Two patients accepting one slot at once are not serialised here: both try to book, and the appointment's
    no-overlap constraint lets one through. Locks are taken entry first, then offer, and no transaction
    touches another patient's offer, so two acceptances never wait on each other in a cycle.
    """
    now = now or timezone.now()
    with transaction.atomic():
        entry = WaitlistEntry.objects.select_for_update(of=("self",)).select_related("service").get(pk=offer.entry_id)
        locked = WaitlistOffer.objects.select_for_update().get(pk=offer.pk)
        locked.entry = entry
        if locked.status != WaitlistOffer.Status.OFFERED:
            raise OfferGone
        appointment = None
        if waitlist_offer_open(locked, now=now):
            appointment = _book(locked, entry)
        if appointment is None:
            locked.status, locked.decided_at = WaitlistOffer.Status.GONE, now
            locked.save(update_fields=["status", "decided_at"])
        else:
            locked.status, locked.decided_at, locked.appointment = WaitlistOffer.Status.ACCEPTED, now, appointment
            locked.save(update_fields=["status", "decided_at", "appointment"])
            entry.status = WaitlistEntry.Status.BOOKED
            entry.save(update_fields=["status", "updated_at"])
            WaitlistOffer.objects.filter(entry=entry, status=WaitlistOffer.Status.OFFERED).update(
                status=WaitlistOffer.Status.GONE, decided_at=now
            )
    if appointment is None:
        logger.info("waitlist offer %s: the slot was taken first", offer.pk)
        raise OfferGone
    _slot_offers_close(locked, now=now)
    logger.info("waitlist offer %s accepted: appointment %s", offer.pk, appointment.pk)
    return appointment


def _book(offer: WaitlistOffer, entry: WaitlistEntry) -> Appointment | None:
    """The appointment for the offer's patient, or None when the database finds the slot held."""
    try:
        return appointment_book(
            service=entry.service,
            practitioner_id=offer.practitioner_id,
            starts_at=offer.starts_at,
            name=entry.name,
            phone=entry.phone,
            email=entry.email,
            reason=BOOKED_FROM_WAITLIST.format(reference=entry.reference),
            consent_version=entry.consent_version,
        )
    except SlotTaken:
        return None


def _slot_offers_close(accepted: WaitlistOffer, *, now: dt.datetime) -> None:
    """Mark the other patients' offers of an accepted slot gone. An offer being accepted right now is skipped:
    its own booking fails on the constraint and marks it gone."""
    with transaction.atomic():
        others = list(
            WaitlistOffer.objects.select_for_update(skip_locked=True)
            .filter(
                practitioner_id=accepted.practitioner_id,
                starts_at__lt=accepted.ends_at,
                ends_at__gt=accepted.starts_at,
                status=WaitlistOffer.Status.OFFERED,
            )
            .values_list("pk", flat=True)
        )
        WaitlistOffer.objects.filter(pk__in=others).update(status=WaitlistOffer.Status.GONE, decided_at=now)


# Staff and retention ------------------------------------------------------------------------------------------


def waitlist_entry_leave(*, entry: WaitlistEntry) -> bool:
    """Take a waiting entry off the waitlist (staff, at the patient's request). False if it was not waiting."""
    return bool(
        WaitlistEntry.objects.filter(pk=entry.pk, status=WaitlistEntry.Status.WAITING).update(
            status=WaitlistEntry.Status.LEFT, updated_at=timezone.now()
        )
    )


@transaction.atomic
def waitlist_entry_view_record(*, entry: WaitlistEntry, actor) -> PrivacyLogEntry:
    """Record that ``actor`` opened the page with this waitlisted patient's details."""
    return PrivacyLogEntry.objects.create(action=PrivacyLogEntry.Action.VIEWED, reference=entry.reference, actor=actor)


def waitlist_entries_expired(*, now: dt.datetime | None = None) -> QuerySet[WaitlistEntry]:
    """Entries with no change and no offer for ``CLINIC_RETENTION_DAYS``, whatever their status: a booked
    entry's details live on in its booking request, and an entry that waited that long is stale."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.CLINIC_RETENTION_DAYS)
    return (
        WaitlistEntry.objects.filter(updated_at__lt=cutoff, created_at__lt=cutoff)
        .exclude(pk__in=WaitlistOffer.objects.filter(created_at__gte=cutoff).values("entry_id"))
        .exclude(pk__in=WaitlistOffer.objects.filter(ends_at__gte=cutoff).values("entry_id"))
    )


def waitlist_entries_purge_expired(*, now: dt.datetime | None = None) -> int:
    """Delete the expired entries with their offers and the offers' e-mails; return how many went."""
    with transaction.atomic():
        expired = list(waitlist_entries_expired(now=now).values_list("pk", flat=True))
        WaitlistEntry.objects.filter(pk__in=expired).delete()
    logger.info("retention purge deleted %d waitlist entr(ies)", len(expired))
    return len(expired)
