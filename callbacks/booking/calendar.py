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
from django.utils import timezone

from callbacks.models import Appointment

logger = logging.getLogger(__name__)

# Calendar file and e-mail --------------------------------------------------------------------------------


def _ics_text(value: str) -> str:
    """Escape a TEXT value (RFC 5545, 3.3.11)."""
    return (
        value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")
    )


def _ics_fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545, 3.1), never inside a UTF-8 character."""
    out, current, size = [], "", 0
    for char in line:
        width = len(char.encode())
        if size + width > 75:
            out.append(current)
            current, size = " ", 1
        current += char
        size += width
    out.append(current)
    return "\r\n".join(out)


def _ics_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def appointment_ics(appointment: Appointment, *, now: dt.datetime | None = None) -> str:
    """An iCalendar file for the appointment: service, time, clinic address and phone, reference. No health
    details, and not the patient's name either."""
    now = now or timezone.now()
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
    reference = appointment.request.reference
    confirmed = appointment.status == Appointment.Status.CONFIRMED
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:-//{_ics_text(settings.CLINIC_NAME)}//Appointments//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:appointment-{appointment.pk}@{domain}",
        f"DTSTAMP:{_ics_time(now)}",
        f"DTSTART:{_ics_time(appointment.starts_at)}",
        f"DTEND:{_ics_time(appointment.ends_at)}",
        f"SUMMARY:{_ics_text(f'{appointment.service.name} at {settings.CLINIC_NAME}')}",
        f"LOCATION:{_ics_text(settings.CLINIC_ADDRESS)}",
        "DESCRIPTION:"
        + _ics_text(
            f"Reference {reference}. To change or cancel, call {settings.CLINIC_PHONE} and give your reference."
        ),
        f"SEQUENCE:{1 if confirmed else 0}",
        f"STATUS:{'CONFIRMED' if confirmed else 'TENTATIVE'}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(_ics_fold(line) + "\r\n" for line in lines)
