"""Cross-cutting checks over the whole URL map: CSRF on every POST, roles on every dashboard."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from app.domain.accounts.models import Role

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


@pytest.mark.parametrize(
    ("prefix", "allowed"),
    [("/organizer", Role.ORGANIZER), ("/admin", Role.ADMIN)],
)
def test_dashboards_need_their_role(app: Flask, db, make_user, login_as, prefix, allowed) -> None:  # noqa: ANN001
    routes = _rules(app, "GET", prefix)
    assert routes, f"no routes under {prefix}"
    anonymous = app.test_client()
    for route in routes:
        response = anonymous.get(route)
        assert response.status_code in (302, 303), f"anonymous reached {route}"
        assert "/login" in response.headers["Location"]
    for role in Role:
        if role == allowed:
            continue
        user = make_user(role=role)
        db.commit()
        client = app.test_client()
        login_as(client, user)
        for route in routes:
            assert client.get(route).status_code == 403, f"{role} reached {route}"
