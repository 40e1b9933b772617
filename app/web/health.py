"""Liveness and readiness probes."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from app.db import get_db
from app.migrate import pending_reason

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 while the process is alive."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """200 only when the database answers and its migrations are at head."""
    try:
        reason = pending_reason(get_db().engine)
    except SQLAlchemyError as exc:
        reason = f"database unreachable: {type(exc).__name__}"
    if reason:
        return jsonify(status="unavailable", reason=reason), 503
    return jsonify(status="ready")
