"""Charts drawn on the server as SVG: the geometry here (no Flask), the drawing in
`templates/partials/_chart.html`. A chart carries its numbers twice more, as the table shown
under it and as the rows of its CSV, so what the picture says can be read without it.

Coordinates are in the SVG's viewBox (`WIDTH` wide); the page scales it to the column, so
the font sizes are chosen to stay readable at a 390 px phone width.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from app.domain.backoffice.exports import safe_cell
from app.domain.money import format_amount, to_decimal

Format = Callable[[int], str]

WIDTH = 400
FONT = 14
CHAR = 7.8  # the average width of a character at FONT, for the room the axis labels need
RIGHT = 12
TOP = 10
AXIS = 26  # room under the plot for the day labels
BAR_BAND = 46  # a bar chart's row: the category label and value above the bar
BAR_HEIGHT = 18
TIME_PLOT_HEIGHT = 180
LEGEND_ROW = 22
DAY_LABEL = 6 * CHAR + 14  # "01 Mar" and a gap
MAX_LABEL = 34
MAX_MARKERS = 62  # a marker per point up to about two months of days; a longer line has none
# Dark enough for 3:1 against white (WCAG's non-text contrast); each series also has its own
# dash pattern and marker, and its name in the legend, so colour is never the only cue.
COLORS = ("#1f5fbf", "#b3410f", "#1d7a3a", "#6b3fa0", "#4a5563", "#8a5a00")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "10 4", "1 2")
MARKERS = ("circle", "square", "diamond", "triangle", "circle", "square")


def format_count(value: int) -> str:
    """1234 -> '1,234'."""
    return f"{value:,}"


def money_formats(currency: str) -> tuple[Format, Format]:
    """The `fmt` and `csv_fmt` of a chart of amounts in `currency`'s minor units: 'EUR 1,234.50'
    (and 'EUR 0.00', where `format_money` would say 'Free') for the picture and the table,
    '1234.50' for the CSV."""

    def shown(value: int) -> str:
        return f"{currency} {to_decimal(value, currency):,}"

    return shown, lambda value: format_amount(value, currency)


def nice_ticks(maximum: int, count: int = 4) -> list[int]:
    """Whole-number axis ticks from 0 to the first "nice" value (1, 2, 2.5 or 5 times a
    power of ten, never a fraction: the values are counts or minor units) at or above
    `maximum`, about `count` steps apart. An all-zero axis still gets 0 and 1, so the scale
    never divides by zero."""
    if maximum <= 0:
        return [0, 1]
    raw = maximum / count
    power = 10 ** max(0, math.floor(math.log10(raw)))
    factors = (1, 2, 2.5, 5, 10) if power >= 10 else (1, 2, 5, 10)
    step = int(next(power * f for f in factors if power * f >= raw))
    return [step * i for i in range(-(-maximum // step) + 1)]


def scale(value: float, top: float, length: float) -> float:
    """`value` on an axis from 0 to `top` that is `length` long (top <= 0 draws at 0)."""
    if top <= 0:
        return 0.0
    return round(length * value / top, 2)


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


@dataclass(frozen=True)
class Series:
    """A named line of a time chart: one value per day of the chart."""

    name: str
    values: tuple[int, ...]


@dataclass(frozen=True)
class Column:
    """A further column of a bar chart's table and CSV (not drawn): one cell per category."""

    name: str
    shown: tuple[str, ...]
    csv: tuple[str, ...]


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Bar:
    label: str
    value_label: str
    label_y: float
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True)
class Line:
    name: str
    color: str
    dash: str
    marker: str
    points: tuple[Point, ...]
    legend_y: float

    @property
    def show_markers(self) -> bool:
        return len(self.points) <= MAX_MARKERS

    @property
    def path(self) -> str:
        return " ".join(f"{p.x},{p.y}" for p in self.points)


@dataclass(frozen=True)
class Chart:
    """Everything the macro draws, plus the table and the CSV of the same numbers."""

    id: str
    kind: str  # "bar" or "time"
    title: str
    description: str
    height: float
    plot_left: float
    plot_top: float
    plot_width: float
    plot_height: float
    value_ticks: tuple[Tick, ...]
    category_ticks: tuple[Tick, ...]
    bars: tuple[Bar, ...]
    lines: tuple[Line, ...]
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    csv_rows: tuple[tuple[str, ...], ...]

    width: int = WIDTH
    font: int = FONT

    @property
    def empty(self) -> bool:
        return not self.rows


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    values: Sequence[int],
    *,
    category_name: str,
    value_name: str = "Tickets",
    fmt: Format = format_count,
    csv_fmt: Format = str,
    top: int | None = None,
    extra: Sequence[Column] = (),
) -> Chart:
    """Horizontal bars from a common baseline, one per category, each with its label and
    its value written above it (long labels and amounts fit a phone that way, so the chart
    needs no value axis). `category_name` and `value_name` head the table's columns, the
    `extra` columns follow them. `top` fixes the full bar's value (100 for percentages);
    by default it is the first nice tick above the largest value."""
    if len(categories) != len(values) or any(len(c.shown) != len(values) for c in extra):
        raise ValueError("one value per category")
    top = top or nice_ticks(max(values, default=0))[-1]
    plot_width = WIDTH - 2 * RIGHT
    bars = tuple(
        Bar(
            label=_short(label),
            value_label=fmt(value),
            label_y=TOP + index * BAR_BAND + FONT,
            x=RIGHT,
            y=TOP + index * BAR_BAND + FONT + 6,
            width=scale(min(value, top), top, plot_width),
            height=BAR_HEIGHT,
        )
        for index, (label, value) in enumerate(zip(categories, values, strict=True))
    )
    plot_height = len(bars) * BAR_BAND
    return Chart(
        id=chart_id,
        kind="bar",
        title=title,
        description=description,
        height=TOP + plot_height + TOP,
        plot_left=RIGHT,
        plot_top=TOP,
        plot_width=plot_width,
        plot_height=plot_height,
        value_ticks=(),
        category_ticks=(),
        bars=bars,
        lines=(),
        header=(category_name, value_name, *(c.name for c in extra)),
        rows=tuple(
            (c, fmt(v), *(x.shown[i] for x in extra))
            for i, (c, v) in enumerate(zip(categories, values, strict=True))
        ),
        csv_rows=tuple(
            (c, csv_fmt(v), *(x.csv[i] for x in extra))
            for i, (c, v) in enumerate(zip(categories, values, strict=True))
        ),
    )


def time_chart(
    chart_id: str,
    title: str,
    description: str,
    days: Sequence[date],
    series: Sequence[Series],
    *,
    fmt: Format = format_count,
    csv_fmt: Format = str,
) -> Chart:
    """Lines over consecutive days, one per series, each with its own colour, dash and
    marker and a legend above the plot; a value axis at the left and day labels below.
    The table has a row per day and a column per series."""
    if any(len(s.values) != len(days) for s in series):
        raise ValueError("one value per day in every series")
    if not days or not series:
        days, series = [], []
    ticks = nice_ticks(max((v for s in series for v in s.values), default=0))
    top = ticks[-1]
    # Room for the widest value label, and for half of the first day label centred on the axis.
    left = round(max(max(len(fmt(t)) for t in ticks) * CHAR + 10, DAY_LABEL / 2), 2)
    plot_top = TOP + len(series) * LEGEND_ROW + (FONT if series else 0)
    plot_width = WIDTH - left - DAY_LABEL / 2  # the last day label is centred on the edge too

    def x_of(index: int) -> float:
        if len(days) == 1:
            return round(left + plot_width / 2, 2)
        return round(left + plot_width * index / (len(days) - 1), 2)

    def y_of(value: int) -> float:
        return round(plot_top + TIME_PLOT_HEIGHT - scale(value, top, TIME_PLOT_HEIGHT), 2)

    lines = tuple(
        Line(
            name=_short(s.name),
            color=COLORS[i % len(COLORS)],
            dash=DASHES[i % len(DASHES)],
            marker=MARKERS[i % len(MARKERS)],
            points=tuple(Point(x_of(d), y_of(v)) for d, v in enumerate(s.values)),
            legend_y=TOP + i * LEGEND_ROW + FONT / 2,
        )
        for i, s in enumerate(series)
    )
    fits = max(1, int(plot_width // DAY_LABEL))
    every = max(1, math.ceil(len(days) / fits))
    labelled = list(range(0, len(days), every))
    if labelled and len(days) - 1 - labelled[-1] >= every / 2 + 1:
        labelled.append(len(days) - 1)
    return Chart(
        id=chart_id,
        kind="time",
        title=title,
        description=description,
        height=plot_top + TIME_PLOT_HEIGHT + AXIS,
        plot_left=left,
        plot_top=plot_top,
        plot_width=plot_width,
        plot_height=TIME_PLOT_HEIGHT,
        value_ticks=tuple(Tick(y_of(t), fmt(t)) for t in ticks),
        category_ticks=tuple(Tick(x_of(i), f"{days[i]:%d %b}") for i in labelled),
        bars=(),
        lines=lines,
        header=("Day", *(s.name for s in series)),
        rows=tuple(
            (d.isoformat(), *(fmt(s.values[i]) for s in series)) for i, d in enumerate(days)
        ),
        csv_rows=tuple(
            (d.isoformat(), *(csv_fmt(s.values[i]) for s in series)) for i, d in enumerate(days)
        ),
    )


NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _csv_cell(cell: str) -> str:
    """A number as it is (a negative amount must stay a number), any other text guarded."""
    return cell if NUMBER.fullmatch(cell) else safe_cell(cell)


def chart_csv(chart: Chart) -> str:
    """The chart's numbers as CSV text: its table's header, then its raw values (counts, or
    amounts as `csv_fmt` wrote them, e.g. '12.50' without a currency sign)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(cell) for cell in chart.header])
    for row in chart.csv_rows:
        writer.writerow([_csv_cell(cell) for cell in row])
    return buffer.getvalue()
