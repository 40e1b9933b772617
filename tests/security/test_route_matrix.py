"""Cross-cutting checks over the whole URL map: CSRF on every POST (who may call each route is
tests/security/test_authorization_matrix.py)."""

from __future__ import annotations

import re

from flask import Flask

# Routes that must accept POSTs without a session's CSRF token (signed by their sender instead).
CSRF_EXEMPT_PREFIXES = ("/webhooks/",)


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
    routes = [r for r in _rules(csrf_app, "POST") if not r.startswith(CSRF_EXEMPT_PREFIXES)]
    assert routes, "the app has POST routes"
    for route in routes:
        response = client.post(route, data={"anything": "1"})
        assert response.status_code == 400, f"{route} answered {response.status_code} without CSRF"
        assert b"form expired" in response.data
