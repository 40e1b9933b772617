"""Authorization helpers used by every blueprint.

Role checks happen at the route (`@requires_role`), ownership checks at the data level
(`owned_or_404`): another user's object answers 404, never its data.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from app.domain.accounts.models import Role

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def requires_role(*roles: Role) -> Callable[[F], F]:
    """Allow only signed-in users with one of `roles`; organizers and admins also need 2FA on."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return redirect(url_for("auth.login", next=request.full_path))
            if current_user.role not in roles:
                abort(403)
            if current_user.needs_2fa and not current_user.has_2fa:
                flash("Turn on two-factor authentication to reach your dashboard.", "warning")
                return redirect(url_for("auth.two_factor_setup", next=request.full_path))
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def owned_or_404(obj: T | None, user_id: int | None, *, owner_attr: str = "user_id") -> T:
    """`obj` when it exists and `obj.<owner_attr>` is `user_id`; otherwise a 404 (never a 403,
    which would tell a stranger the object exists)."""
    if obj is None or user_id is None or getattr(obj, owner_attr) != user_id:
        abort(404)
    return obj
