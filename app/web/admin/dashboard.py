"""Admin: the dashboard of sales, money and what waits, with its charts' numbers as CSV
(`backoffice.admin_dashboard`)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue

from app.db import get_session
from app.domain.accounts.models import Role
from app.domain.backoffice import admin_dashboard
from app.domain.base import utcnow
from app.web.authz import requires_role
from app.web.chart_csv import csv_response

bp = Blueprint("admin_dashboard", __name__, url_prefix="/admin")


def _zone() -> str:
    return current_app.config["EVENTS_DISPLAY_TZ"]


@bp.get("/dashboard")
@requires_role(Role.ADMIN)
def index() -> ResponseReturnValue:
    """Tickets and money today, this week and over a range of days, with charts; a range
    that cannot be shown is explained and the default one shown instead."""
    now, zone = utcnow(), _zone()
    today = admin_dashboard.local_today(now, zone)
    error = ""
    try:
        chosen = admin_dashboard.parse_range(request.args, today=today)
    except admin_dashboard.BadDashboardRequest as refused:
        error, chosen = refused.message, admin_dashboard.default_range(today)
    return render_template(
        "admin/dashboard.html",
        board=admin_dashboard.dashboard(get_session(), chosen, now=now, zone=zone),
        error=error,
        asked={"from": request.args.get("from", "")[:20], "to": request.args.get("to", "")[:20]},
    )


@bp.get("/dashboard.csv")
@requires_role(Role.ADMIN)
def chart_csv() -> ResponseReturnValue:
    """One chart's numbers over the range as CSV (a bad range or chart is a 400)."""
    now, zone = utcnow(), _zone()
    chosen = admin_dashboard.parse_range(request.args, today=admin_dashboard.local_today(now, zone))
    chart = admin_dashboard.chart(get_session(), request.args.get("chart", ""), chosen, zone=zone)
    return csv_response(chart, f"{chart.id}-{chosen.first}-to-{chosen.last}.csv")
