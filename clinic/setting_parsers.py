"""Readers of the settings whose values have a grammar of their own (no Django imports: the settings module uses
this at start-up, and the rules that apply the values import the same grammar from here)."""

import re

# One allowance of working time: minutes or hours of opening time, or working days ("15m", "2h", "1d").
DEADLINE_ALLOWANCE = re.compile(r"^(?P<amount>\d+)(?P<unit>[mhd])$")


def parse_deadlines(spec: str) -> dict[str, str]:
    """Read "emergency=15m, urgent=2h, review=1d, routine=1d" into {priority name: allowance}."""
    deadlines = {}
    for part in filter(None, (p.strip().lower() for p in spec.split(","))):
        name, _, allowance = (item.strip() for item in part.partition("="))
        if not DEADLINE_ALLOWANCE.match(allowance):
            raise ValueError(f"Response deadlines: cannot read {part!r}; expected e.g. 'urgent=2h'.")
        deadlines[name] = allowance
    return deadlines


WHOLE_NUMBER = re.compile(r"[0-9]+")


def follow_up_weeks_parse(raw: str | list) -> tuple[int, ...]:
    """``"2,6,12"`` (or a list) as sorted, distinct whole weeks, each 1 or more; ValueError on anything else."""
    parts = raw.split(",") if isinstance(raw, str) else list(raw)
    weeks = set()
    for part in parts:
        text = str(part).strip()
        if not text:
            continue
        # ASCII digits only: str.isdigit() also takes "²", which int() then refuses with a message of its own.
        if not WHOLE_NUMBER.fullmatch(text) or int(text) < 1:
            raise ValueError(f"{text!r} is not a whole number of weeks (1 or more)")
        weeks.add(int(text))
    return tuple(sorted(weeks))
