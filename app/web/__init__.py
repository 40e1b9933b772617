"""Web layer: blueprints by audience over the domain core."""

from __future__ import annotations

from importlib import import_module

from flask import Flask, Response, current_app, request

from app.web import errors, static_files, templating
from app.web.api.cors import init_cors

# Each module exposes `bp`; grouped by audience (DESIGN.md, "Shape of the code").
BLUEPRINT_MODULES = (
    "app.web.health",
    "app.web.metrics",
    "app.web.public.home",
    "app.web.public.events",
    "app.web.public.booking",
    "app.web.public.live",
    "app.web.public.seats",
    "app.web.public.crawlers",
    "app.web.account.auth",
    "app.web.account.oauth",
    "app.web.account.profile",
    "app.web.account.bookings",
    "app.web.account.notifications",
    "app.web.account.push",
    "app.web.account.unsubscribe",
    "app.web.account.coupons",
    "app.web.account.tickets",
    "app.web.account.dev_outbox",
    "app.web.account.phone",
    "app.web.account.api_tokens",
    "app.web.payments.buyer",
    "app.web.payments.demo_checkout",
    "app.web.payments.webhooks",
    "app.web.organizer.events",
    "app.web.organizer.tiers",
    "app.web.organizer.coupons",
    "app.web.organizer.attendees",
    "app.web.organizer.sales_exports",
    "app.web.organizer.analytics",
    "app.web.organizer.seatmap",
    "app.web.organizer.payments",
    "app.web.organizer.staff",
    "app.web.organizer.team",
    "app.web.organizer.webhooks",
    "app.web.admin.users",
    "app.web.admin.moderation",
    "app.web.admin.events",
    "app.web.admin.payments",
    "app.web.admin.notifications",
    "app.web.admin.jobs",
    "app.web.admin.dashboard",
    "app.web.staff",
    "app.web.checkin.door",
    "app.web.checkin_pwa",
    "app.web.api",
)


def content_security_policy(*form_targets: str) -> str:
    """The site's policy; `form_targets`: other origins a form on the page may lead to (a
    payment provider's checkout, reached by a redirect from our "Pay")."""
    if not form_targets:
        return CONTENT_SECURITY_POLICY
    return CONTENT_SECURITY_POLICY.replace(
        "form-action 'self'", "form-action 'self' " + " ".join(form_targets)
    )


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'"
)


def register_web(app: Flask) -> None:
    for name in BLUEPRINT_MODULES:
        app.register_blueprint(import_module(name).bp)
    errors.register(app)
    templating.register(app)
    init_cors(app)
    static_files.register(app)
    app.after_request(_headers)


def _headers(response: Response) -> Response:
    # The same URL answers a fragment to htmx and a page to everyone else.
    response.vary.add("HX-Request")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    hsts = int(current_app.config.get("HSTS_SECONDS") or 0)
    if current_app.config.get("APP_ENV") == "production" and hsts:
        response.headers.setdefault("Strict-Transport-Security", f"max-age={hsts}")
    if (
        request.endpoint
        and request.endpoint != "static"
        and "Cache-Control" not in response.headers
    ):
        response.headers["Cache-Control"] = "no-store" if request.cookies else "no-cache"
    return response
