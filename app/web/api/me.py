"""GET /api/v1/me: who the token belongs to, and what it may do."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from app.web.api import bp
from app.web.api.guard import api_caller, api_user


@bp.get("/me")
@api_user()
def me() -> ResponseReturnValue:
    """The token's user and scopes."""
    caller = api_caller()
    user = caller.user
    return jsonify(
        id=user.id,
        name=user.name,
        email=user.email,
        role=user.role.value,
        token=caller.kind,
        scopes=sorted(caller.scopes),
    )
