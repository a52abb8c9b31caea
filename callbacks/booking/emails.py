"""Booking an appointment in a real free slot: the slots offered, the booking itself, staff decisions, reminders.

Slots are laid out in the clinic's time zone (working hours are local wall-clock times) and stored in UTC.
Whether a slot is still free when it is booked is decided by the database alone (the exclusion constraint on
PostgreSQL, triggers on SQLite, see `callbacks.models.Appointment`): two patients who saw the same free slot
both try to insert, and exactly one insert succeeds.
"""

from __future__ import annotations

import logging

from django.conf import settings

from callbacks.booking.calendar import appointment_ics
from callbacks.booking.links import appointment_cancel_url
from callbacks.models import Appointment, Notification

logger = logging.getLogger(__name__)

# The patient's first e-mail carries the time as tentative (staff have not confirmed it yet); the confirmation
# and reminder carry it confirmed, with the same UID and a higher SEQUENCE, so calendars update the one event.
ICS_KINDS = (
    Notification.Kind.PATIENT_CONFIRMATION,
    Notification.Kind.BOOKING_CONFIRMED,
    Notification.Kind.BOOKING_REMINDER,
)


def booking_email_context(notification: Notification) -> dict:
    """What the e-mail templates of a booking need, and the calendar file to attach (for confirmations)."""
    appointment = (
        Appointment.objects.select_related("service", "practitioner").filter(request_id=notification.request_id).first()
    )
    if appointment is None:
        return {}
    context = {
        "appointment": appointment,
        "clinic_address": settings.CLINIC_ADDRESS,
        "cancel_url": appointment_cancel_url(appointment),
    }
    if notification.kind in ICS_KINDS:
        context["ics"] = appointment_ics(appointment)
    return context
