"""The calendar file attached to a patient's booking e-mails (RFC 5545, written by the icalendar library), and the
one rule of its SEQUENCE.

One event per appointment with a stable UID, so the tentative event of the first e-mail, the confirmed one, a new
time and a cancellation are the same entry in the patient's calendar. Every change that sends the patient a new
file (confirm, decline, a move by the patient or the front desk, a cancel by either) raises the appointment's
`calendar_sequence` by one in the change's transaction (`appointment_calendar_change`), and the e-mail's outbox row
keeps the number it was written with: the files one patient receives only ever go up. A cancellation is
METHOD:CANCEL with STATUS:CANCELLED; every other file is METHOD:PUBLISH. No health details, and not the patient's
name either.
"""

from __future__ import annotations

import datetime as dt
from email.utils import parseaddr

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress

from callbacks.models import Appointment


def appointment_calendar_change(appointment: Appointment) -> int:
    """Raise the locked ``appointment``'s calendar SEQUENCE for a change the patient is to get a new file for, and
    return the new number (to stamp on that e-mail's outbox row). Call in the change's transaction."""
    appointment.calendar_sequence += 1
    appointment.save(update_fields=["calendar_sequence"])
    return appointment.calendar_sequence


def appointment_ics(
    appointment: Appointment,
    *,
    sequence: int | None = None,
    cancelled: bool = False,
    now: dt.datetime | None = None,
) -> str:
    """An iCalendar file for the appointment: service, time, clinic address and phone, reference.

    ``sequence`` is the number the e-mail was written with (the appointment's current one when not given);
    ``cancelled`` makes it the cancellation that removes the event from the patient's calendar."""
    calendar = _calendar(method="CANCEL" if cancelled else "PUBLISH")
    calendar.add_component(_event(appointment, sequence=sequence, cancelled=cancelled, now=now or timezone.now()))
    return calendar.to_ical().decode()


def appointments_ics(appointments: list[Appointment], *, sequence: int, now: dt.datetime | None = None) -> str:
    """One calendar file with one event per appointment (a course of care's sessions), each under its own
    appointment's UID, so a later file about one session (moved, cancelled) changes that event only. ``sequence``
    is the number the e-mail was written with: the sessions' first file."""
    now = now or timezone.now()
    calendar = _calendar(method="PUBLISH")
    for appointment in appointments:
        calendar.add_component(_event(appointment, sequence=sequence, cancelled=False, now=now))
    return calendar.to_ical().decode()


def _calendar(*, method: str) -> Calendar:
    calendar = Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", f"-//{settings.CLINIC_NAME}//Appointments//EN")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    return calendar


def _event(appointment: Appointment, *, sequence: int | None, cancelled: bool, now: dt.datetime) -> Event:
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
    reference = appointment.request.reference
    event = Event()
    event.add("uid", f"appointment-{appointment.pk}@{domain}")
    event.add("dtstamp", now.astimezone(dt.UTC))
    event.add("dtstart", appointment.starts_at.astimezone(dt.UTC))
    event.add("dtend", appointment.ends_at.astimezone(dt.UTC))
    event.add("summary", f"{appointment.service.name} at {settings.CLINIC_NAME}")
    event.add("location", settings.CLINIC_ADDRESS)
    # RFC 5546 wants an organizer on a published or cancelled event: the clinic's sending address.
    organizer = vCalAddress(f"mailto:{parseaddr(settings.DEFAULT_FROM_EMAIL)[1]}")
    organizer.params["cn"] = settings.CLINIC_NAME
    event.add("organizer", organizer)
    if cancelled:
        description = f"Reference {reference}. This appointment is cancelled."
        status = "CANCELLED"
    else:
        description = (
            f"Reference {reference}. To change or cancel, use the links in our e-mail or call {settings.CLINIC_PHONE} "
            "and give your reference."
        )
        status = "CONFIRMED" if appointment.status == Appointment.Status.CONFIRMED else "TENTATIVE"
    event.add("description", description)
    event.add("sequence", appointment.calendar_sequence if sequence is None else sequence)
    event.add("status", status)
    return event
