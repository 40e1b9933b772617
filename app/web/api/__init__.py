"""The JSON API, /api/v1: bearer tokens only (no cookies, so no CSRF), problem details for
every error (app/web/errors.py sends errors under /api/ to `problems`), and a rate limit per
network and per token in front of every route (the booking posts' buckets, app/web/network.py).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from app.domain.api_tokens import opaque
from app.extensions import csrf
from app.web.api.problems import http_problem
from app.web.network import bucket_wait, client_network

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


@bp.before_request
def _rate_limit() -> Response | None:
    """Count the request against its network and its token, before anything reads them."""
    config = current_app.config
    network = client_network()
    if network is not None:
        wait = bucket_wait(
            "api_network_buckets",
            network,
            per_minute=int(config["API_NETWORK_PER_MINUTE"]),
            burst=int(config["API_NETWORK_BURST"]),
        )
        if wait:
            return _busy(wait, "from your network")
    header = request.headers.get("Authorization", "")
    if header:
        # By the token's digest: the process keeps no usable token in memory.
        wait = bucket_wait(
            "api_token_buckets",
            opaque.digest(header),
            per_minute=int(config["API_TOKEN_PER_MINUTE"]),
            burst=int(config["API_TOKEN_BURST"]),
        )
        if wait:
            return _busy(wait, "with this token")
    return None


def _busy(wait: int, source: str) -> Response:
    detail = f"Too many requests {source}. Try again in {wait} second{'s' if wait != 1 else ''}."
    return http_problem(429, detail, {"Retry-After": str(wait)})


# Their routes join `bp`; auth_docs describes auth's and me's for the OpenAPI document.
from app.web.api import (  # noqa: E402, F401
    auth,
    auth_docs,
    bookings,
    checkin,
    events,
    me,
    openapi,
    organizer,
    organizer_changes,
)
