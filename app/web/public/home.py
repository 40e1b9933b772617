"""The home page: a search box, the featured events and the "for you" list."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.db import get_listing_session
from app.domain.base import utcnow
from app.domain.events.recommendations import Preferences, featured, for_you
from app.web.authz import signed_in_user_or_none
from app.web.http_cache import shared_when_anonymous
from app.web.public import hot_reads

bp = Blueprint("public_home", __name__)


@bp.get("/")
@shared_when_anonymous()
def index() -> str:
    """Featured events, then events ranked by the visitor's preferences, or soon and popular
    ones."""
    session = get_listing_session()
    user = signed_in_user_or_none()
    preferences = Preferences.from_json(user.preferences if user else None)
    now = utcnow()
    picks = featured(session, now=now)
    shown = {event.id for event in picks}
    return render_template(
        "public/home.html",
        featured=picks,
        events=[e for e in for_you(session, preferences, now=now) if e.id not in shown],
        personalized=not preferences.empty,
        categories=hot_reads.categories(),
    )
