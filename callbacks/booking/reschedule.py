"""A patient moves their appointment to another free slot, through the signed link in their e-mail.

The move is one transaction on the appointment's own row: its time (and practitioner) change, its revision
rises (the link it came from stops working), its calendar SEQUENCE rises (the patient's calendar moves the one
event), the request's
window follows, the request's history says the patient moved it, staff and the patient are told through the
outbox, and the freed time is announced to the waitlist. Whether the new time is free is decided by the database
alone, as for a new booking (the no-overlap constraint also checks updates): two patients moving into one slot at
once cannot both succeed.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from callbacks.booking.calendar import appointment_calendar_change
from callbacks.booking.events import slot_freed_announce
from callbacks.booking.services import appointment_reminder_reset
from callbacks.booking.slots import SlotTaken, SlotWriteRefused, slot_offered, slot_write, slots_nearest
from callbacks.models import Appointment, RequestEvent
from callbacks.notifications.outbox import notifications_for_appointment_moved
from callbacks.requests.actors import patient_link_actor
from callbacks.requests.services import callback_request_window_move
from callbacks.requests.workflow import moment_label
from callbacks.rules.booking import appointment_status_holds_time

logger = logging.getLogger(__name__)


class RescheduleClosed(Exception):
    """The appointment cannot be moved by this link: cancelled, declined, started, or the link was used."""


class _Clash(Exception):
    pass


def appointment_movable(appointment: Appointment, *, now: dt.datetime | None = None) -> bool:
    """Whether the appointment may still be moved, by the patient's link or the front desk: it holds time and has
    not started. The one home of this rule."""
    return appointment_status_holds_time(appointment.status) and appointment.starts_at > (now or timezone.now())


def appointment_reschedule(
    *,
    appointment: Appointment,
    revision: int,
    practitioner_id: int,
    starts_at: dt.datetime,
    now: dt.datetime | None = None,
) -> Appointment:
    """Move ``appointment`` (as sent at ``revision``) to the slot of its service starting at ``starts_at``.

    All or nothing. Raises RescheduleClosed when the appointment cannot be moved by this link (see the class),
    and SlotTaken, with the nearest free alternatives and nothing changed, when the new slot is not offered or
    another appointment holds it. The appointment keeps its status: a confirmed appointment stays confirmed at
    the new time (staff are told and can move or decline it).
    """
    now = now or timezone.now()
    service = appointment.service
    slot = slot_offered(service=service, practitioner_id=practitioner_id, starts_at=starts_at, now=now)
    if slot is None:
        raise SlotTaken(alternatives=slots_nearest(service=service, around=starts_at, now=now))
    try:
        with transaction.atomic():
            locked = Appointment.objects.select_for_update().select_related("request").get(pk=appointment.pk)
            if locked.revision != revision or not appointment_movable(locked, now=now):
                raise RescheduleClosed
            freed = (locked.practitioner_id, locked.starts_at, locked.ends_at)
            if (slot.practitioner_id, slot.starts_at) == freed[:2]:
                raise RescheduleClosed  # nothing to move; the view never offers the current time
            locked.practitioner_id = slot.practitioner_id
            locked.starts_at, locked.ends_at = slot.starts_at, slot.ends_at
            locked.revision += 1
            try:
                with slot_write():
                    locked.save(update_fields=["practitioner", "starts_at", "ends_at", "revision"])
            except SlotWriteRefused as exc:
                raise _Clash from exc
            request = locked.request
            # A booking's window is its appointment: the queue shows the new time.
            callback_request_window_move(request=request, window_start=slot.starts_at, window_end=slot.ends_at)
            RequestEvent.objects.create(
                request=request,
                actor=patient_link_actor(),
                at=now,
                action=RequestEvent.Action.EDITED,
                field="appointment",
                before=f"{moment_label(freed[1])} with {appointment.practitioner.name}",
                after=f"{moment_label(slot.starts_at)} with {slot.practitioner_name}",
            )
            notifications_for_appointment_moved(
                request, by_patient=True, calendar_sequence=appointment_calendar_change(locked)
            )
            appointment_reminder_reset(locked)
            slot_freed_announce(practitioner_id=freed[0], starts_at=freed[1], ends_at=freed[2])
    except _Clash:
        logger.info("slot %s already held; move of appointment %s refused", slot.key, appointment.pk)
        raise SlotTaken(alternatives=slots_nearest(service=service, around=starts_at, now=now)) from None
    logger.info("appointment %s moved by the patient (revision %s)", locked.pk, locked.revision)
    return locked
