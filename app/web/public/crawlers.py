"""What crawlers and browsers ask every site for: robots.txt, sitemap.xml, /favicon.ico."""

from __future__ import annotations

from datetime import UTC

from flask import Blueprint, Response, current_app, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from app.db import get_session
from app.domain.base import utcnow
from app.domain.events.sitemap import sitemap_events
from app.web.links import absolute_url

bp = Blueprint("public_crawlers", __name__)

# Pages that are private, per visitor, or live: nothing for a search index, and costly to crawl.
PRIVATE_PATHS = (
    "/account/",
    "/admin/",
    "/organizer/",
    "/dev/",
    "/login",
    "/register",
    "/forgot",
    "/reset/",
    "/verify/",
    "/oauth/",
    "/events/*/live",
    "/events/*/availability",
    "/events/*/seats",
    "/events/*/tickets",
)
# Crawlers may fetch these files an hour apart.
CRAWLER_CACHE = "public, max-age=3600"


@bp.get("/robots.txt")
def robots() -> ResponseReturnValue:
    """Public pages for every crawler, with the sitemap; outside production nothing at all."""
    if current_app.config["APP_ENV"] != "production":
        rules = ["Disallow: /"]
    else:
        rules = [f"Disallow: {path}" for path in PRIVATE_PATHS]
        rules.append(f"Sitemap: {absolute_url('public_crawlers.sitemap')}")
    body = "\n".join(["User-agent: *", *rules]) + "\n"
    return Response(body, mimetype="text/plain", headers={"Cache-Control": CRAWLER_CACHE})


@bp.get("/sitemap.xml")
def sitemap() -> ResponseReturnValue:
    """Published events that have not ended, with links from BASE_URL."""
    body = render_template(
        "public/sitemap.xml", events=sitemap_events(get_session(), now=utcnow()), utc=UTC
    )
    return Response(body, mimetype="application/xml", headers={"Cache-Control": CRAWLER_CACHE})


@bp.get("/favicon.ico")
def favicon() -> ResponseReturnValue:
    """Browsers ask for it on pages that do not name their icon (an image opened alone)."""
    return redirect(url_for("static", filename="img/favicon.svg"), 301)
