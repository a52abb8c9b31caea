"""When an appointment can take an attendance mark (callbacks.rules.booking.attendance_mark_check)."""

import datetime as dt
import zoneinfo

import pytest
from django.core.exceptions import ValidationError

from callbacks.rules.booking import attendance_mark_check

LONDON = zoneinfo.ZoneInfo("Europe/London")
STARTS = dt.datetime(2027, 1, 4, 14, 0, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("status", "attendance", "now", "refused"),
    [
        ("confirmed", "attended", STARTS, ""),
        ("requested", "attended", STARTS + dt.timedelta(days=3), ""),
        ("confirmed", "attended", STARTS - dt.timedelta(minutes=1), "attendance_too_early"),
        ("confirmed", "dna", STARTS + dt.timedelta(minutes=15), ""),
        ("confirmed", "dna", STARTS - dt.timedelta(hours=2), "attendance_too_early"),
        # Arrived: any time on the day (early for a 14:00 appointment is fine), never the day before.
        ("confirmed", "arrived", dt.datetime(2027, 1, 4, 0, 0, tzinfo=LONDON), ""),
        ("confirmed", "arrived", dt.datetime(2027, 1, 3, 23, 59, tzinfo=LONDON), "attendance_too_early"),
        # Cancelled late: within 24 hours of the start, or after it.
        ("confirmed", "late_cancel", STARTS - dt.timedelta(hours=23), ""),
        ("confirmed", "late_cancel", STARTS + dt.timedelta(hours=1), ""),
        ("confirmed", "late_cancel", STARTS - dt.timedelta(hours=25), "attendance_not_late"),
        # A declined or cancelled appointment never took place.
        ("cancelled", "attended", STARTS, "attendance_not_booked"),
        ("declined", "dna", STARTS, "attendance_not_booked"),
        ("confirmed", "seen", STARTS, "unknown_attendance"),
    ],
)
def test_when_an_appointment_takes_a_mark(status, attendance, now, refused):
    if not refused:
        attendance_mark_check(status=status, attendance=attendance, starts_at=STARTS, now=now, zone=LONDON)
        return
    with pytest.raises(ValidationError) as caught:
        attendance_mark_check(status=status, attendance=attendance, starts_at=STARTS, now=now, zone=LONDON)
    assert caught.value.code == refused
