"""The home page: a search box and the "for you" list."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.db import get_session
from app.domain.base import utcnow
from app.domain.events.categories import list_categories
from app.domain.events.recommendations import Preferences, for_you
from app.web.authz import signed_in_user_or_none

bp = Blueprint("public_home", __name__)


@bp.get("/")
def index() -> str:
    """Events ranked by the visitor's preferences, or soon and popular ones."""
    session = get_session()
    user = signed_in_user_or_none()
    preferences = Preferences.from_json(user.preferences if user else None)
    return render_template(
        "public/home.html",
        events=for_you(session, preferences, now=utcnow()),
        personalized=not preferences.empty,
        categories=list_categories(session),
    )
