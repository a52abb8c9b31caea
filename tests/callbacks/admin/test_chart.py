"""Geometry of the scores-over-time line chart (callbacks.admin.chart.line_chart)."""

from callbacks.admin.chart import LINE_BOTTOM, LINE_HEIGHT, LINE_LEFT, LINE_RIGHT, LINE_TOP, LINE_WIDTH, line_chart

PLOT_WIDTH = LINE_WIDTH - LINE_LEFT - LINE_RIGHT


def test_the_plot_area_the_numbers_below_assume():
    assert (LINE_LEFT, PLOT_WIDTH, LINE_TOP, LINE_HEIGHT - LINE_BOTTOM) == (32, 272, 12, 142)


def test_points_sit_on_the_weeks_and_the_measures_whole_scale():
    chart = line_chart(
        low=0, high=10, scores=[(0, "Intake", 8), (2, "Week 2", 5), (12, "Week 12", 0)], weeks=(2, 6, 12)
    )
    # x: 32 + 272 * week / 12; y: 142 - 130 * value / 10.
    assert [(p.x, p.y) for p in chart.points] == [(32, 38), (77.33, 77), (304, 142)]
    assert chart.line == "32.0,38.0 77.33,77.0 304.0,142.0"
    assert [p.label for p in chart.points] == ["Intake: 8", "Week 2: 5", "Week 12: 0"]
    assert [(t.value, t.y) for t in chart.ticks] == [(0, 142), (5, 77), (10, 12)]
    assert [(label.x, label.text) for label in chart.week_labels] == [
        (32, "Intake"),
        (77.33, "Wk 2"),
        (168, "Wk 6"),
        (304, "Wk 12"),
    ]


def test_a_scale_below_zero_has_its_middle_at_zero_and_keeps_values_inside():
    chart = line_chart(low=-3, high=3, scores=[(2, "Week 2", -3), (6, "Week 6", 3)], weeks=(2, 6, 12))
    assert [(t.value, t.y) for t in chart.ticks] == [(-3, 142), (0, 77), (3, 12)]
    assert [p.y for p in chart.points] == [142, 12]
    clamped = line_chart(low=0, high=10, scores=[(2, "Week 2", 14)], weeks=(2,))
    assert clamped.points[0].y == LINE_TOP


def test_empty_and_single_point_charts_draw_no_line():
    empty = line_chart(low=0, high=10, scores=[], weeks=(2, 6, 12))
    assert empty.is_empty and empty.points == () and empty.line == ""
    assert [label.text for label in empty.week_labels] == ["Intake", "Wk 2", "Wk 6", "Wk 12"]
    single = line_chart(low=0, high=10, scores=[(2, "Week 2", 4)], weeks=())
    assert not single.is_empty and single.line == ""
    # Without a schedule the axis ends at the last score's week.
    assert single.points[0].x == LINE_LEFT + PLOT_WIDTH
