"""`@api_user(scope=...)`: the caller of an API route, from its `Authorization: Bearer` header.

Only the header counts: a session cookie never authenticates an API call, so a page of another
site cannot make a signed-in browser call the API (and the API needs no CSRF token).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request

from app.db import get_session
from app.domain.api_tokens.bearer import ApiCaller, authenticate_bearer
from app.domain.api_tokens.errors import missing_token
from app.domain.base import utcnow
from app.observability import logs

F = TypeVar("F", bound=Callable[..., Any])


def bearer_token() -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        return None
    return value


def api_user(scope: str | None = None) -> Callable[[F], F]:
    """Let the route run only for a live user's valid token holding `scope` (None: any)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            raw = bearer_token()
            if raw is None:
                raise missing_token()
            caller = authenticate_bearer(
                get_session(), raw, secret_key=current_app.config["SECRET_KEY"], now=utcnow()
            )
            if scope is not None:
                caller.require(scope)
            g.api_caller = caller
            logs.user_id.set(caller.user.id)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def api_caller() -> ApiCaller:
    """The caller, in a route behind `@api_user`."""
    return g.api_caller
