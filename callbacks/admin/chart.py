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


# One small line chart per outcome measure on a request's page (scores over time).
LINE_WIDTH, LINE_HEIGHT = 320, 170
LINE_LEFT, LINE_RIGHT, LINE_TOP, LINE_BOTTOM = 32, 16, 12, 28


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: int | float
    label: str


@dataclass(frozen=True)
class AxisLabel:
    x: float
    text: str


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    points: tuple[Point, ...]
    # The SVG polyline's "x,y x,y ..." (empty with fewer than two points: nothing to join).
    line: str
    ticks: tuple[Tick, ...]
    week_labels: tuple[AxisLabel, ...]
    plot_left: int
    plot_right: int
    baseline: float

    @property
    def is_empty(self) -> bool:
        return not self.points


def line_chart(*, low: int, high: int, scores: list[tuple[int, str, int | float]], weeks: tuple[int, ...]) -> LineChart:
    """Place ``(week, label, value)`` scores on a fixed scale from ``low`` to ``high`` (a measure's whole range,
    so two patients' charts compare), the x axis running from week 0 (intake) to the last of ``weeks`` or of
    the scores; ticks at the bottom, middle and top of the scale, each week of ``weeks`` labelled."""
    plot_width = LINE_WIDTH - LINE_LEFT - LINE_RIGHT
    plot_height = LINE_HEIGHT - LINE_TOP - LINE_BOTTOM
    baseline = LINE_TOP + plot_height
    last_week = max([*weeks, *(week for week, _, _ in scores), 1])

    def x_of(week: int) -> float:
        return round(LINE_LEFT + plot_width * week / last_week, 2)

    def y_of(value: int | float) -> float:
        clamped = min(max(value, low), high)
        return round(baseline - plot_height * (clamped - low) / (high - low), 2)

    points = tuple(
        Point(x=x_of(week), y=y_of(value), value=value, label=f"{label}: {value}") for week, label, value in scores
    )
    middle = (low + high) / 2
    tick_values = (low, int(middle) if float(middle).is_integer() else middle, high)
    return LineChart(
        width=LINE_WIDTH,
        height=LINE_HEIGHT,
        points=points,
        line=" ".join(f"{point.x},{point.y}" for point in points) if len(points) > 1 else "",
        ticks=tuple(Tick(value=value, y=y_of(value)) for value in tick_values),
        week_labels=tuple(
            AxisLabel(x=x_of(week), text="Intake" if week == 0 else f"Wk {week}") for week in sorted({0, *weeks})
        ),
        plot_left=LINE_LEFT,
        plot_right=LINE_WIDTH - LINE_RIGHT,
        baseline=baseline,
    )
