"""Rates such as "10/h", parsed from settings (no Django imports: the settings module uses this)."""

from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

_PERIODS = {"m": 60, "h": 60 * 60, "d": 24 * 60 * 60}


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> "Rate":
        """'10/h' is ten per hour; units m, h and d."""
        count, _, unit = text.strip().partition("/")
        if not count.isdigit() or unit not in _PERIODS or int(count) < 1:
            raise ImproperlyConfigured(f"A rate limit looks like 10/h (per m, h or d), not {text!r}.")
        return cls(int(count), _PERIODS[unit])
