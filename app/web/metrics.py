"""`GET /metrics`: Prometheus metrics, for a scraper holding METRICS_TOKEN.

Without METRICS_TOKEN the route is 404: nobody learns the site's traffic by default. The
scraper sends `Authorization: Bearer <METRICS_TOKEN>`; anything else is 401.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, abort, current_app
from flask.typing import ResponseReturnValue

from app.db import get_db
from app.observability.exposition import CONTENT_TYPE, scrape
from app.web.api.guard import bearer_token

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics() -> ResponseReturnValue:
    """Every process's metrics and the queue and disk gauges."""
    expected = str(current_app.config.get("METRICS_TOKEN") or "")
    if not expected:
        abort(404)
    offered = bearer_token() or ""
    if not hmac.compare_digest(offered.encode(), expected.encode()):
        return Response(
            "A bearer token is needed.\n",
            401,
            {"WWW-Authenticate": 'Bearer realm="metrics"', "Content-Type": "text/plain"},
        )
    # The disk gauges appear when the embedded database's directory is on this machine.
    body = scrape(get_db().engine, str(current_app.config["PGDATA_DIR"]))
    return Response(body, 200, {"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"})
