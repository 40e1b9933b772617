"""The chart geometry: nice ticks, scaling, and the edge cases (no data, one day, zeros)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from app.domain.backoffice.charts import (
    DAY_LABEL,
    TIME_PLOT_HEIGHT,
    WIDTH,
    Column,
    Series,
    bar_chart,
    chart_csv,
    money_formats,
    nice_ticks,
    scale,
    time_chart,
)


@pytest.mark.parametrize(
    ("maximum", "ticks"),
    [
        (0, [0, 1]),
        (-5, [0, 1]),
        (1, [0, 1]),
        (3, [0, 1, 2, 3]),
        (7, [0, 2, 4, 6, 8]),
        (10, [0, 5, 10]),
        (97, [0, 25, 50, 75, 100]),
        (100, [0, 25, 50, 75, 100]),
        (101, [0, 50, 100, 150]),
        (12_345, [0, 5000, 10000, 15000]),
    ],
)
def test_ticks_are_whole_nice_numbers_from_zero_past_the_maximum(maximum: int, ticks: list) -> None:
    assert nice_ticks(maximum) == ticks


def test_ticks_always_cover_the_maximum_in_a_few_steps() -> None:
    for maximum in range(1, 3000, 7):
        ticks = nice_ticks(maximum)
        assert ticks[0] == 0 and ticks[-1] >= maximum > ticks[-2]
        assert 2 <= len(ticks) <= 6
        assert all(isinstance(t, int) for t in ticks)


def test_scale_is_proportional_and_safe_at_zero() -> None:
    assert scale(50, 100, 300) == 150
    assert scale(0, 100, 300) == 0
    assert scale(5, 0, 300) == 0


def test_bar_chart_scales_bars_to_the_axis_top_and_keeps_every_number() -> None:
    chart = bar_chart(
        "tiers", "Tickets", "Sold per type.", ["VIP", "Standard"], [10, 5], category_name="Type"
    )
    vip, standard = chart.bars
    assert vip.width == chart.plot_width  # 10 is the axis top
    assert standard.width == chart.plot_width / 2
    assert vip.value_label == "10" and standard.label == "Standard"
    assert standard.y > vip.y + vip.height  # one band per bar, no overlap
    assert chart.header == ("Type", "Tickets")
    assert chart.rows == (("VIP", "10"), ("Standard", "5"))
    assert max(b.x + b.width for b in chart.bars) <= WIDTH
    assert chart.height >= standard.y + standard.height


def test_bar_chart_of_zeros_and_of_nothing() -> None:
    zeros = bar_chart("z", "T", "D", ["A", "B"], [0, 0], category_name="C")
    assert [b.width for b in zeros.bars] == [0, 0]
    assert zeros.rows == (("A", "0"), ("B", "0")) and not zeros.empty
    empty = bar_chart("e", "T", "D", [], [], category_name="C")
    assert empty.empty and empty.bars == ()
    with pytest.raises(ValueError):
        bar_chart("x", "T", "D", ["A"], [], category_name="C")


def test_bar_chart_shortens_long_labels_but_not_the_table() -> None:
    name = "A very long ticket type name that goes on and on"
    chart = bar_chart("l", "T", "D", [name], [3], category_name="C")
    assert chart.bars[0].label.endswith("…") and len(chart.bars[0].label) <= 34
    assert chart.rows[0][0] == name


def test_money_bars_show_formatted_amounts_and_csv_plain_ones() -> None:
    shown, plain = money_formats("EUR")
    chart = bar_chart(
        "r",
        "Revenue",
        "D",
        ["Gross", "Net"],
        [123_450, 0],
        category_name="Figure",
        value_name="Amount (EUR)",
        fmt=shown,
        csv_fmt=plain,
    )
    assert chart.rows == (("Gross", "EUR 1,234.50"), ("Net", "EUR 0.00"))
    parsed = list(csv.reader(io.StringIO(chart_csv(chart))))
    assert parsed == [["Figure", "Amount (EUR)"], ["Gross", "1234.50"], ["Net", "0.00"]]


def test_time_chart_places_days_left_to_right_and_values_bottom_to_top() -> None:
    start = date(2026, 3, 1)
    days = [start + timedelta(days=i) for i in range(3)]
    chart = time_chart("s", "Sales", "D", days, [Series("VIP", (0, 4, 2)), Series("GA", (1, 0, 0))])
    vip, ga = chart.lines
    xs = [p.x for p in vip.points]
    assert xs[0] == chart.plot_left and xs[-1] == chart.plot_left + chart.plot_width
    assert xs == sorted(xs)
    bottom = chart.plot_top + TIME_PLOT_HEIGHT
    assert vip.points[0].y == bottom  # zero sits on the axis
    assert vip.points[1].y == chart.plot_top  # 4 is the axis top
    assert vip.points[2].y == bottom - TIME_PLOT_HEIGHT / 2
    assert [t.label for t in chart.value_ticks] == ["0", "1", "2", "3", "4"]
    assert (vip.dash, vip.marker) != (ga.dash, ga.marker)  # not colour alone
    assert chart.header == ("Day", "VIP", "GA")
    assert chart.rows[1] == ("2026-03-02", "4", "0")
    assert [t.label for t in chart.category_ticks] == ["01 Mar", "02 Mar", "03 Mar"]


def test_time_chart_of_one_day_centres_its_point() -> None:
    chart = time_chart("o", "T", "D", [date(2026, 3, 1)], [Series("GA", (4,))])
    (point,) = chart.lines[0].points
    assert point.x == round(chart.plot_left + chart.plot_width / 2, 2)
    assert point.y == chart.plot_top
    assert len(chart.category_ticks) == 1


def test_time_chart_of_nothing_is_empty() -> None:
    assert time_chart("n", "T", "D", [], []).empty
    assert time_chart("n", "T", "D", [date(2026, 3, 1)], []).empty
    with pytest.raises(ValueError):
        time_chart("n", "T", "D", [date(2026, 3, 1)], [Series("GA", (1, 2))])


def test_long_time_chart_labels_a_few_days_only() -> None:
    start = date(2026, 1, 1)
    days = [start + timedelta(days=i) for i in range(60)]
    chart = time_chart("l", "T", "D", days, [Series("GA", tuple(range(60)))])
    assert 2 <= len(chart.category_ticks) <= 6
    assert len(chart.rows) == 60
    for tick in chart.category_ticks:  # centred day labels stay inside the picture
        assert DAY_LABEL / 2 <= tick.position <= WIDTH - DAY_LABEL / 2


def test_money_axis_leaves_room_for_its_labels() -> None:
    narrow = time_chart("a", "T", "D", [date(2026, 1, 1)], [Series("GA", (5,))])
    wide = time_chart(
        "b",
        "T",
        "D",
        [date(2026, 1, 1)],
        [Series("EUR", (1_234_567,))],
        fmt=money_formats("EUR")[0],
    )
    assert wide.plot_left > narrow.plot_left
    assert wide.plot_left + wide.plot_width < WIDTH


def test_csv_cells_that_look_like_formulas_stay_text() -> None:
    chart = bar_chart("f", "T", "D", ["=cmd()"], [1], category_name="Code")
    assert list(csv.reader(io.StringIO(chart_csv(chart))))[1] == ["'=cmd()", "1"]


def test_csv_keeps_a_negative_amount_a_number_and_guards_a_dash_that_is_not_one() -> None:
    chart = bar_chart("n", "Net", "D", ["Refunded", "-1+1"], [-5, 2], category_name="Category")
    rows = list(csv.reader(io.StringIO(chart_csv(chart))))[1:]
    assert rows == [["Refunded", "-5"], ["'-1+1", "2"]]


def test_bar_chart_with_a_fixed_top_and_further_columns() -> None:
    chart = bar_chart(
        "rate",
        "Checked in",
        "D",
        ["VIP", "GA"],
        [50, 100],
        category_name="Type",
        value_name="Rate",
        fmt=lambda v: f"{v}%",
        top=100,
        extra=[
            Column("Checked in", ("1", "4"), ("1", "4")),
            Column("Tickets", ("2", "4"), ("2", "4")),
        ],
    )
    assert [b.width for b in chart.bars] == [chart.plot_width / 2, chart.plot_width]
    assert chart.header == ("Type", "Rate", "Checked in", "Tickets")
    assert chart.rows[0] == ("VIP", "50%", "1", "2")
    assert chart.csv_rows[1] == ("GA", "100", "4", "4")
    with pytest.raises(ValueError):
        bar_chart("x", "T", "D", ["A"], [1], category_name="C", extra=[Column("E", (), ())])


def test_long_lines_drop_their_markers() -> None:
    start = date(2026, 1, 1)
    short = time_chart("s", "T", "D", [start], [Series("GA", (1,))])
    days = [start + timedelta(days=i) for i in range(90)]
    long = time_chart("l", "T", "D", days, [Series("GA", (1,) * 90)])
    assert short.lines[0].show_markers and not long.lines[0].show_markers
