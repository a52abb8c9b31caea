"""The calendar file attached to a patient's booking e-mails (RFC 5545, written by the icalendar library).

One event per appointment with a stable UID, so the tentative event of the first e-mail and the confirmed one
of the confirmation (a higher SEQUENCE) are the same entry in the patient's calendar. No health details, and
not the patient's name either.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

from callbacks.models import Appointment


def appointment_ics(appointment: Appointment, *, now: dt.datetime | None = None) -> str:
    """An iCalendar file for the appointment: service, time, clinic address and phone, reference."""
    now = now or timezone.now()
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
    reference = appointment.request.reference
    confirmed = appointment.status == Appointment.Status.CONFIRMED
    calendar = Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", f"-//{settings.CLINIC_NAME}//Appointments//EN")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"appointment-{appointment.pk}@{domain}")
    event.add("dtstamp", now.astimezone(dt.UTC))
    event.add("dtstart", appointment.starts_at.astimezone(dt.UTC))
    event.add("dtend", appointment.ends_at.astimezone(dt.UTC))
    event.add("summary", f"{appointment.service.name} at {settings.CLINIC_NAME}")
    event.add("location", settings.CLINIC_ADDRESS)
    event.add(
        "description",
        f"Reference {reference}. To change or cancel, call {settings.CLINIC_PHONE} and give your reference.",
    )
    # Each move raises the revision: the same UID with a higher SEQUENCE updates the patient's one event.
    event.add("sequence", 2 * appointment.revision + (1 if confirmed else 0))
    event.add("status", "CONFIRMED" if confirmed else "TENTATIVE")
    calendar.add_component(event)
    return calendar.to_ical().decode()
