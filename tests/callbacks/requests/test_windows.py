import datetime as dt

from callbacks.requests.windows import callback_windows
from clinic.hours import parse_opening_hours


def test_callback_windows_are_fixed_blocks_trimmed_to_the_days_hours(settings):
    settings.CLINIC_OPENING_HOURS = parse_opening_hours("mon-fri 08:00-18:00; sat 09:00-13:00")
    saturday = dt.date(2026, 12, 5)
    windows = callback_windows(saturday)
    assert [(start.strftime("%H:%M"), end.strftime("%H:%M")) for start, end in windows.values()] == [
        ("09:00", "10:00"),
        ("10:00", "12:00"),
        ("12:00", "13:00"),
    ]
    assert callback_windows(dt.date(2026, 12, 6)) == {}
