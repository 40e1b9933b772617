"""The organizer's sales analytics of one event, and each chart's numbers as CSV
(`backoffice.analytics`, `backoffice.analytics_charts`)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue

from app.db import get_session
from app.domain.accounts.models import Role
from app.domain.backoffice.analytics import event_analytics
from app.domain.backoffice.analytics_charts import event_charts
from app.domain.base import utcnow
from app.web.authz import organizer_event_or_404, requires_role
from app.web.chart_csv import csv_response

bp = Blueprint("organizer_analytics", __name__, url_prefix="/organizer/events/<int:event_id>")


@bp.get("/analytics")
@requires_role(Role.ORGANIZER)
def index(event_id: int) -> ResponseReturnValue:
    """Sales by tier over time, revenue, coupons, waitlist and check-ins, charted."""
    event = organizer_event_or_404(event_id)
    figures = event_analytics(get_session(), event)
    return render_template(
        "organizer/analytics.html", event=event, figures=figures, charts=event_charts(figures)
    )


@bp.get("/analytics/<name>.csv")
@requires_role(Role.ORGANIZER)
def chart_csv(event_id: int, name: str) -> ResponseReturnValue:
    """One chart's numbers as CSV; a chart the page does not have is "not found"."""
    event = organizer_event_or_404(event_id)
    chart = event_charts(event_analytics(get_session(), event)).get(name)
    if chart is None:
        abort(404)
    return csv_response(chart, f"{event.slug}-{name}-{utcnow():%Y-%m-%d}.csv")
