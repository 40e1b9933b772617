"""Authorization helpers used by every blueprint: who is signed in, and what they may reach.

Views ask for the user through `signed_in_user()` (or `signed_in_user_or_none()` where a
visitor may be anonymous), never through flask-login's proxy. Role checks happen at the route
(`@requires_role`), ownership checks at the data level (`owned_or_404` and the event loaders
below): another user's object, or an event the public may not see, answers 404, never its data.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.db import get_session
from app.domain.accounts.models import Role, User
from app.domain.base import NotFound
from app.domain.events.models import Event, EventStatus
from app.domain.events.visibility import PUBLIC_STATUSES
from app.domain.teams import access as team_access
from app.domain.teams.access import Permission
from app.domain.ticketing.on_sale import EventOnSale
from app.web.account import session_login
from app.web.htmx import full_page_redirect

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
E = TypeVar("E", Event, EventOnSale)
PUBLISHED = frozenset({EventStatus.PUBLISHED})


def signed_in_user_or_none() -> User | None:
    """The signed-in user (the object itself, not flask-login's proxy), or None for a visitor."""
    if not current_user.is_authenticated:
        return None
    return current_user._get_current_object()


def signed_in_user() -> User:
    """The signed-in user, in views behind `@requires_role` or `@login_required`."""
    user = signed_in_user_or_none()
    assert user is not None  # the route's sign-in check ran first
    return user


def requires_role(*roles: Role) -> Callable[[F], F]:
    """Allow only signed-in users with one of `roles`. Organizers and admins also need 2FA
    on, and a session that passed it: a session that skipped the second step (whatever the
    way) is ended, and the user asked for their code to start a new one."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = signed_in_user_or_none()
            if user is None:
                return redirect(url_for("auth.login", next=request.full_path))
            if user.role not in roles:
                abort(403)
            return _two_factor_gate(user, user.needs_2fa) or view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def requires_organizer_or_member(view: F) -> F:
    """Organizers, and members of an organizer's team (whatever their own role): the event
    loader then decides what each may reach (`organizer_event_or_404(..., need=...)`).
    Members who see money (manage, sales) need 2FA as organizers do; check-in-only members,
    like door staff, do not."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        user = signed_in_user_or_none()
        if user is None:
            return redirect(url_for("auth.login", next=request.full_path))
        if user.role != Role.ORGANIZER and not user.in_team:  # read with the session's user
            abort(403)
        needs_2fa = team_access.needs_two_factor(get_session(), user)
        return _two_factor_gate(user, needs_2fa) or view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def back_office_home() -> str:
    """Where the back office starts for the signed-in user: an organizer's dashboard, or a
    team member's list of the teams they are in."""
    if signed_in_user().role == Role.ORGANIZER:
        return url_for("organizer_events.dashboard")
    return url_for("organizer_team.memberships")


def _two_factor_gate(user: User, required: bool) -> Response | None:
    """The answer that stops a user who must use 2FA and has not (None: go on)."""
    if not required:
        return None
    if not user.has_2fa:
        flash("Turn on two-factor authentication to reach your dashboard.", "warning")
        return redirect(url_for("auth.two_factor_setup", next=request.full_path))
    if not user.second_factor_done:
        return _second_factor_again(user)
    return None


def _second_factor_again(user: User) -> Response:
    next_url = request.full_path if request.method == "GET" else "/"
    session_login.end_login(user)
    session_login.begin_second_factor(user, remember=False, next_url=next_url, method="step-up")
    flash("Enter the code from your authenticator app to continue.", "info")
    return redirect(url_for("auth.login_code"), 303)


def verified_email_required(view: F) -> F:
    """Signed-in users whose address is not proven yet cannot book, report or apply: they may
    have typed someone else's at a sign-in provider (app/domain/accounts/address_proof.py).
    Anonymous users go through, for the view to ask them to log in."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        user = signed_in_user_or_none()
        if user is not None and user.email_verified_at is None:
            flash(
                "Confirm your email address first: open the link we sent you, or send a new "
                "one from this page.",
                "warning",
            )
            return full_page_redirect(url_for("account_profile.profile"))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def owned_or_404(obj: T | None, user_id: int | None, *, owner_attr: str = "user_id") -> T:
    """`obj` when it exists and `obj.<owner_attr>` is `user_id`; otherwise a 404 (never a 403,
    which would tell a stranger the object exists)."""
    if obj is None or user_id is None or getattr(obj, owner_attr) != user_id:
        abort(404)
    return obj


def published_or_404(event: E | None, *, closed_too: bool = False) -> E:
    """`event` when it is published; with `closed_too` also when it was cancelled or is over
    (it keeps its public page, e.g. a closed ticket panel). Anything else, a draft or an event
    hidden while its organizer is suspended included, is "not found"."""
    allowed = PUBLIC_STATUSES if closed_too else PUBLISHED
    if event is None or event.status not in allowed or event.hidden_at is not None:
        raise NotFound("We could not find that event.")
    return event


def published_event_or_404(event_id: int, *, closed_too: bool = False) -> Event:
    """The event `event_id` for the public pages: see `published_or_404`."""
    return published_or_404(get_session().get(Event, event_id), closed_too=closed_too)


def organizer_event_or_404(event_id: int, need: Permission = Permission.MANAGE) -> Event:
    """The event `event_id` when the signed-in user owns it, or is in its owner's team with a
    role that grants `need`; anyone else's is "not found" (routes behind
    `@requires_organizer_or_member`, or `@requires_role(Role.ORGANIZER)`)."""
    return team_access.event_for(get_session(), signed_in_user(), event_id, need)
