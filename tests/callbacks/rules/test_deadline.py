"""The response deadline: allowances read from the setting, counted in the clinic's working time."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from callbacks.rules.deadline import working_deadline
from clinic.hours import parse_opening_hours
from clinic.setting_parsers import parse_deadlines

LONDON = ZoneInfo("Europe/London")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=LONDON)


def test_deadline_spec_is_parsed_and_checked():
    assert parse_deadlines("emergency=15m, urgent=2h") == {"emergency": "15m", "urgent": "2h"}
    with pytest.raises(ValueError, match="urgent=soon"):
        parse_deadlines("urgent=soon")


@pytest.mark.parametrize(
    ("received", "allowance", "deadline"),
    [
        # Tuesday 2026-12-01, open 08:00-18:00.
        ("2026-12-01 10:00", "15m", "2026-12-01 10:15"),
        ("2026-12-01 10:00", "2h", "2026-12-01 12:00"),
        ("2026-12-01 17:00", "2h", "2026-12-02 09:00"),  # one hour today, one tomorrow
        ("2026-12-01 22:00", "15m", "2026-12-02 08:15"),  # at night: counts from opening
        ("2026-12-01 06:00", "2h", "2026-12-01 10:00"),
        ("2026-12-01 10:00", "1d", "2026-12-02 18:00"),  # next working day's close
        ("2026-12-04 17:30", "2h", "2026-12-05 10:30"),  # Friday evening into Saturday's short hours
        ("2026-12-05 12:30", "2h", "2026-12-07 09:30"),  # Saturday, Sunday closed, Monday
        ("2026-12-05 10:00", "1d", "2026-12-07 18:00"),  # Saturday: next working day is Monday
        ("2026-12-04 10:00", "1d", "2026-12-05 13:00"),  # Friday: next working day is Saturday
    ],
)
def test_working_deadline(received, allowance, deadline, settings):
    settings.CLINIC_OPENING_HOURS = parse_opening_hours("mon-fri 08:00-18:00; sat 09:00-13:00")
    assert working_deadline(at(received), allowance) == at(deadline)


@pytest.mark.parametrize(
    ("received", "allowance", "deadline", "utc_hours_between"),
    [
        # Clocks go forward on Sunday 2026-03-29: the Monday deadline is in BST (UTC+1).
        ("2026-03-27 17:00", "2h", "2026-03-28 10:00", 17),
        ("2026-03-28 12:30", "2h", "2026-03-30 09:30", 44),
        # Clocks go back on Sunday 2026-10-25: the Monday deadline is in GMT (UTC+0).
        ("2026-10-24 12:30", "2h", "2026-10-26 09:30", 46),
    ],
)
def test_working_deadline_across_daylight_saving_changes(received, allowance, deadline, utc_hours_between, settings):
    settings.CLINIC_OPENING_HOURS = parse_opening_hours("mon-fri 08:00-18:00; sat 09:00-13:00")
    result = working_deadline(at(received), allowance)
    assert result == at(deadline)
    elapsed = result.astimezone(dt.UTC) - at(received).astimezone(dt.UTC)
    assert elapsed == dt.timedelta(hours=utc_hours_between)


def test_the_promised_deadline_is_the_window_end_unless_the_priority_demands_sooner():
    from callbacks.rules.deadline import promised_deadline
    from callbacks.rules.requests import Priority

    zone = dt.UTC
    start, end = dt.datetime(2026, 12, 2, 10, tzinfo=zone), dt.datetime(2026, 12, 2, 12, tzinfo=zone)
    early, late = dt.datetime(2026, 12, 1, 12, tzinfo=zone), dt.datetime(2026, 12, 3, 18, tzinfo=zone)
    for priority in (Priority.ROUTINE, Priority.REVIEW):
        # What the patient was told (the window), even when the routine allowance would be sooner or later.
        assert (
            promised_deadline(priority=priority, booking=False, window_start=start, window_end=end, by_priority=early)
            == end
        )
        assert (
            promised_deadline(priority=priority, booking=False, window_start=start, window_end=end, by_priority=late)
            == end
        )
    for priority in (Priority.URGENT, Priority.EMERGENCY):
        assert (
            promised_deadline(priority=priority, booking=False, window_start=start, window_end=end, by_priority=early)
            == early
        )
        assert (
            promised_deadline(priority=priority, booking=False, window_start=start, window_end=end, by_priority=late)
            == end
        )
    # A booking: confirmed before the appointment starts.
    assert (
        promised_deadline(priority=Priority.ROUTINE, booking=True, window_start=start, window_end=end, by_priority=late)
        == start
    )
    assert (
        promised_deadline(
            priority=Priority.ROUTINE, booking=True, window_start=start, window_end=end, by_priority=early
        )
        == early
    )
