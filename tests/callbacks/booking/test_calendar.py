"""The appointment's calendar file, read back with icalendar: escaping, folding and the UID/SEQUENCE update."""

import datetime as dt

import icalendar
import pytest
from django.utils import timezone

from callbacks.booking.calendar import appointment_calendar_change, appointment_ics
from callbacks.models import Appointment, Practitioner, Service
from tests.callbacks.booking.test_booking import appointment_row

pytestmark = pytest.mark.django_db

ADDRESS = "Unit 4, Mill Yard; Stoke Newington\nLondon N16 — back door, “Physio” sign"
NAME = "Bäck & Spine, Hackney; est. 2011"


@pytest.fixture
def appointment(settings):
    settings.CLINIC_NAME = NAME
    settings.CLINIC_ADDRESS = ADDRESS
    settings.CLINIC_PHONE = "+44 20 7946 0000"
    settings.DEFAULT_FROM_EMAIL = "clinic@back.example"
    service = Service.objects.create(
        name="Initial assessment, long (with a very long name to fold)", duration_minutes=45
    )
    practitioner = Practitioner.objects.create(name="Sam Physio")
    start = (timezone.now() + dt.timedelta(days=3)).replace(microsecond=0)
    row = appointment_row(practitioner, service, start)
    row.request.name = "Alex Patient"
    row.request.save()
    row.save()
    return row


def parsed(text: str) -> tuple[icalendar.Calendar, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(text)
    [event] = calendar.walk("VEVENT")
    return calendar, event


def test_text_values_survive_escaping_and_folding(appointment):
    text = appointment_ics(appointment)
    # Folded at 75 octets, CRLF line ends, never split inside a UTF-8 character (each line decodes on its own).
    for line in text.encode().split(b"\r\n"):
        assert len(line) <= 75
        line.decode()
    assert "\r\n " in text  # the summary and location are long enough to be folded
    assert "\\," in text and "\\;" in text and "\\n" in text
    calendar, event = parsed(text)
    assert str(event["LOCATION"]) == ADDRESS
    assert str(event["SUMMARY"]) == f"Initial assessment, long (with a very long name to fold) at {NAME}"
    assert str(calendar["PRODID"]) == f"-//{NAME}//Appointments//EN"
    assert appointment.request.reference in str(event["DESCRIPTION"])
    assert "Alex" not in text


def test_method_uid_times_and_the_sequence_that_updates_the_same_event(appointment):
    calendar, tentative = parsed(appointment_ics(appointment))
    assert str(calendar["METHOD"]) == "PUBLISH" and str(calendar["VERSION"]) == "2.0"
    assert str(tentative["UID"]) == f"appointment-{appointment.pk}@back.example"
    assert tentative.decoded("DTSTART") == appointment.starts_at
    assert tentative.decoded("DTEND") == appointment.ends_at
    assert tentative.decoded("DTSTART").utcoffset() == dt.timedelta(0)
    assert (str(tentative["STATUS"]), tentative["SEQUENCE"]) == ("TENTATIVE", 0)
    assert str(tentative["ORGANIZER"]) == "mailto:clinic@back.example"
    appointment.status = Appointment.Status.CONFIRMED
    assert appointment_calendar_change(appointment) == 1
    _, confirmed = parsed(appointment_ics(appointment))
    assert str(confirmed["UID"]) == str(tentative["UID"])
    assert (str(confirmed["STATUS"]), confirmed["SEQUENCE"]) == ("CONFIRMED", 1)
    appointment.refresh_from_db()
    assert appointment.calendar_sequence == 1  # saved, not only on the instance
    # A file written earlier keeps its own number; a cancellation is METHOD:CANCEL for the same event.
    cancel_calendar, cancelled = parsed(appointment_ics(appointment, sequence=5, cancelled=True))
    assert str(cancel_calendar["METHOD"]) == "CANCEL"
    assert (str(cancelled["UID"]), str(cancelled["STATUS"]), cancelled["SEQUENCE"]) == (
        str(tentative["UID"]),
        "CANCELLED",
        5,
    )
