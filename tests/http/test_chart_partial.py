"""The chart macro draws well-formed, labelled SVG with its numbers as a table."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

from flask import Flask

from app.domain.backoffice.charts import Chart, Series, bar_chart, time_chart

SVG = "{http://www.w3.org/2000/svg}"


def _render(app: Flask, chart: Chart) -> str:
    with app.test_request_context():
        module = app.jinja_env.get_template("partials/_chart.html").module
        return str(module.chart(chart, "/numbers.csv"))


def _svg(html: str) -> ET.Element:
    start, end = html.index("<svg"), html.index("</svg>") + len("</svg>")
    return ET.fromstring(  # noqa: S314 (markup this test rendered itself)
        html[start:end].replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    )


def test_bar_chart_is_labelled_svg_with_a_table_and_a_csv_link(app: Flask) -> None:
    chart = bar_chart(
        "tiers", "Tickets by type", "Sold so far.", ["VIP <b>", "GA"], [3, 1], category_name="Type"
    )
    html = _render(app, chart)
    svg = _svg(html)
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "tiers-title tiers-desc"
    assert svg.find(f"{SVG}title").text == "Tickets by type"
    assert svg.find(f"{SVG}desc").get("id") == "tiers-desc"
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "VIP <b>" in texts and "3" in texts  # escaped on the way in, whole on the way out
    assert '<th scope="row">VIP &lt;b&gt;</th>' in html
    assert '<th scope="col">Type</th>' in html
    assert 'href="/numbers.csv"' in html and "Download CSV" in html
    assert "<script" not in html


def test_time_chart_draws_a_line_per_series_with_a_legend(app: Flask) -> None:
    days = [date(2026, 3, 1), date(2026, 3, 2)]
    chart = time_chart(
        "sales", "Sales", "Per day.", days, [Series("VIP", (1, 2)), Series("GA", (0, 5))]
    )
    svg = _svg(_render(app, chart))
    assert len(svg.findall(f".//{SVG}polyline")) == 2
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert {"VIP", "GA", "01 Mar", "02 Mar"} <= set(texts)


def test_an_empty_chart_says_so_without_svg(app: Flask) -> None:
    html = _render(app, bar_chart("none", "Coupons", "Uses.", [], [], category_name="Code"))
    assert "<svg" not in html and "Nothing to show yet." in html
