"""Cross-cutting checks over the whole URL map: CSRF on every POST (who may call each route is
tests/security/test_authorization_matrix.py)."""

from __future__ import annotations

import re

from flask import Flask

# Routes that must accept POSTs without a session's CSRF token (signed by their sender instead).
# Unsubscribe links: mail programs POST `List-Unsubscribe=One-Click` with no cookie and no
# token (RFC 8058); the link's signed token is the authority, and it can only turn one optional
# topic off (tests/http/test_notifications_http.py).
CSRF_EXEMPT_PREFIXES = ("/webhooks/", "/unsubscribe/")
# The JSON API takes no cookies at all, only `Authorization: Bearer` (app/web/api/guard.py):
# a page elsewhere cannot make a browser send that, so there is nothing for CSRF to protect.
API_PREFIX = "/api/"


def _concrete(rule: str) -> str:
    """Fill every URL parameter with a plausible value (ids that do not exist)."""
    return re.sub(r"<(?:[^:<>]+:)?[^<>]+>", "999999", rule)


def _rules(app: Flask, method: str, prefix: str = "/") -> list[str]:
    return sorted(
        {
            _concrete(rule.rule)
            for rule in app.url_map.iter_rules()
            if method in (rule.methods or set()) and rule.rule.startswith(prefix)
        }
    )


def test_every_post_route_refuses_a_missing_csrf_token(csrf_app: Flask) -> None:
    client = csrf_app.test_client()
    routes = [
        r for r in _rules(csrf_app, "POST") if not r.startswith((*CSRF_EXEMPT_PREFIXES, API_PREFIX))
    ]
    assert routes, "the app has POST routes"
    for route in routes:
        response = client.post(route, data={"anything": "1"})
        assert response.status_code == 400, f"{route} answered {response.status_code} without CSRF"
        assert b"form expired" in response.data


def test_the_exempt_routes_are_exactly_the_signed_ones(csrf_app: Flask) -> None:
    """Only the provider webhooks and the unsubscribe links skip CSRF, and both still refuse
    a request that their signature does not vouch for."""
    client = csrf_app.test_client()
    exempt = [r for r in _rules(csrf_app, "POST") if r.startswith(CSRF_EXEMPT_PREFIXES)]
    assert exempt == ["/unsubscribe/999999", "/webhooks/999999"]
    for route in exempt:
        response = client.post(route, data={"List-Unsubscribe": "One-Click"})
        assert response.status_code in (400, 404), f"{route} answered {response.status_code}"
        assert b"form expired" not in response.data


def test_api_posts_skip_csrf_and_answer_problem_details(csrf_app: Flask) -> None:
    """By design: no CSRF token asked, and without a valid credential in the body or the
    header nothing happens (a 401 or a 422 problem, never "form expired")."""
    client = csrf_app.test_client()
    routes = _rules(csrf_app, "POST", API_PREFIX)
    assert routes == [
        "/api/v1/auth/logout",
        "/api/v1/auth/refresh",
        "/api/v1/auth/token",
        "/api/v1/bookings",
        "/api/v1/bookings/999999/cancel",
        "/api/v1/bookings/999999/checkout",
        "/api/v1/checkin/events/999999/check-ins/999999/undo",
        "/api/v1/checkin/events/999999/scans",
        "/api/v1/organizer/events",
        "/api/v1/organizer/events/999999/submit",
        "/api/v1/organizer/events/999999/tiers",
    ]
    patches = _rules(csrf_app, "PATCH", API_PREFIX)
    assert patches == [
        "/api/v1/organizer/events/999999",
        "/api/v1/organizer/events/999999/tiers/999999",
    ]
    for method, route in [("POST", r) for r in routes] + [("PATCH", r) for r in patches]:
        response = client.open(route, method=method, data={"anything": "1"})
        assert response.status_code in (401, 422), f"{route} answered {response.status_code}"
        assert response.mimetype == "application/problem+json"
