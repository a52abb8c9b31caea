"""Geometry of the admin home's "requests per day" bar chart, drawn as server-side SVG (no script)."""

import datetime as dt
import math
from dataclasses import dataclass

from django.utils.formats import date_format

WIDTH, HEIGHT = 720, 200
LEFT, RIGHT, TOP, BOTTOM = 36, 24, 12, 28


@dataclass(frozen=True)
class Bar:
    day: dt.date
    count: int
    x: float
    y: float
    width: float
    height: float
    label: str
    is_today: bool


@dataclass(frozen=True)
class Tick:
    value: int
    y: float


@dataclass(frozen=True)
class DayLabel:
    x: float
    text: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    day_labels: tuple[DayLabel, ...]
    plot_left: int
    plot_right: int
    baseline: float
    total: int
    first_day: dt.date | None
    last_day: dt.date | None


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50... that is at least ``value`` (at least 4, so ticks stay whole)."""
    if value <= 4:
        return 4
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def bar_chart(per_day: list[tuple[dt.date, int]]) -> BarChart:
    """Lay out one bar per day; days labelled on Mondays; gridlines at 0, half and the top of the scale."""
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    baseline = TOP + plot_height
    top_value = nice_ceiling(max((count for _, count in per_day), default=0))
    slot = plot_width / max(len(per_day), 1)
    bar_width = max(slot * 0.72, 1)
    last_day = per_day[-1][0] if per_day else None
    bars, labels = [], []
    for index, (day, count) in enumerate(per_day):
        height = plot_height * count / top_value
        x = LEFT + index * slot + (slot - bar_width) / 2
        noun = "request" if count == 1 else "requests"
        bars.append(
            Bar(
                day=day,
                count=count,
                x=round(x, 2),
                y=round(baseline - height, 2),
                width=round(bar_width, 2),
                height=round(height, 2),
                label=f"{date_format(day, 'D j M')}: {count} {noun}",
                is_today=day == last_day,
            )
        )
        if day.weekday() == 0:
            labels.append(DayLabel(x=round(x + bar_width / 2, 2), text=date_format(day, "j M")))
    ticks = tuple(
        Tick(value=v, y=round(baseline - plot_height * v / top_value, 2)) for v in (0, top_value // 2, top_value)
    )
    return BarChart(
        width=WIDTH,
        height=HEIGHT,
        bars=tuple(bars),
        ticks=ticks,
        day_labels=tuple(labels),
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        baseline=baseline,
        total=sum(count for _, count in per_day),
        first_day=per_day[0][0] if per_day else None,
        last_day=last_day,
    )
