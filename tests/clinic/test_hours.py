import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from clinic.hours import opening_hours_on, parse_opening_hours

LONDON = ZoneInfo("Europe/London")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=LONDON)


def test_opening_hours_are_parsed_per_weekday():
    hours = parse_opening_hours("mon-fri 08:00-18:00; sat 09:00-13:00")
    assert hours[0] == (dt.time(8), dt.time(18))
    assert hours[4] == (dt.time(8), dt.time(18))
    assert hours[5] == (dt.time(9), dt.time(13))
    assert 6 not in hours


@pytest.mark.parametrize("spec", ["", "mon 08-18", "xyz 08:00-18:00", "mon 18:00-08:00", "mon-fri 08:00 18:00"])
def test_unreadable_opening_hours_stop_start_up(spec):
    with pytest.raises(ValueError, match="Opening hours"):
        parse_opening_hours(spec)


def test_opening_hours_on_a_day_are_aware_and_none_when_closed(settings):
    settings.CLINIC_OPENING_HOURS = parse_opening_hours("mon-fri 08:00-18:00; sat 09:00-13:00")
    assert opening_hours_on(dt.date(2026, 12, 5)) == (at("2026-12-05 09:00"), at("2026-12-05 13:00"))
    assert opening_hours_on(dt.date(2026, 12, 6)) is None
