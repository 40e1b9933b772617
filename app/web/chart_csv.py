"""A chart's numbers as a CSV download (`backoffice.charts.chart_csv`)."""

from __future__ import annotations

from flask import Response

from app.domain.backoffice.charts import Chart, chart_csv


def csv_response(chart: Chart, filename: str) -> Response:
    """The chart's table as an attached CSV file named `filename` (".csv" included)."""
    return Response(
        chart_csv(chart),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
