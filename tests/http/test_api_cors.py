"""CORS: only /api/, only for the configured origins, never with credentials; other origins and
every page get no CORS headers; a wildcard or pattern in the setting refuses to start."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from app.web.api.cors import allowed_origins
from tests.conftest import _test_config

ALLOWED = "https://door.example.com"
PREFLIGHT = {
    "Origin": ALLOWED,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
}


@pytest.fixture(scope="module")
def cors_app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    from app import create_app

    config = _test_config(
        database_url,
        tmp_path_factory.mktemp("instance"),
        API_CORS_ORIGINS=f" {ALLOWED}/, http://localhost:3000",
    )
    application = create_app(config)
    yield application
    application.extensions["db"].engine.dispose()


def _cors_headers(response) -> dict[str, str]:  # noqa: ANN001
    return {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


def test_a_preflight_from_an_allowed_origin(cors_app: Flask) -> None:
    response = cors_app.test_client().options("/api/v1/checkin/events/1/scans", headers=PREFLIGHT)
    assert response.status_code == 200
    headers = response.headers
    assert headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "POST" in headers["Access-Control-Allow-Methods"]
    allowed = {h.strip().lower() for h in headers["Access-Control-Allow-Headers"].split(",")}
    assert allowed == {"authorization", "content-type", "idempotency-key"}
    assert headers["Access-Control-Max-Age"] == "600"
    assert "Origin" in headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in headers


def test_an_answer_to_an_allowed_origin_exposes_the_api_headers(cors_app: Flask) -> None:
    client = cors_app.test_client()
    response = client.get("/api/v1/events", headers={"Origin": ALLOWED})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    exposed = response.headers["Access-Control-Expose-Headers"]
    assert {"ETag", "Idempotent-Replayed", "Location", "Retry-After"} <= set(exposed.split(", "))
    assert "Origin" in response.headers["Vary"]
    # A problem is readable too (the app shows why it was refused).
    refused = client.get("/api/v1/me", headers={"Origin": "http://localhost:3000"})
    assert refused.status_code == 401
    assert refused.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example.com",
        "http://door.example.com",  # another scheme is another origin
        "https://door.example.com.evil.test",
        "https://door.example.com:8443",
        "null",
    ],
)
def test_other_origins_get_no_cors_headers(cors_app: Flask, origin: str) -> None:
    client = cors_app.test_client()
    preflight = client.options(
        "/api/v1/checkin/events/1/scans", headers={**PREFLIGHT, "Origin": origin}
    )
    assert _cors_headers(preflight) == {}
    answer = client.get("/api/v1/events", headers={"Origin": origin})
    assert _cors_headers(answer) == {}
    assert "Origin" in answer.headers["Vary"]  # a cache keeps it apart from an allowed one's


@pytest.mark.parametrize(
    "path",
    ["/", "/events", "/login", "/checkin/1", "/static/css/site.css", "/static/api/docs.html"],
)
def test_pages_never_get_cors_headers(cors_app: Flask, path: str) -> None:
    client = cors_app.test_client()
    assert _cors_headers(client.get(path, headers={"Origin": ALLOWED})) == {}
    assert _cors_headers(client.options(path, headers=PREFLIGHT)) == {}


def test_without_the_setting_no_origin_gets_cors_headers(client) -> None:  # noqa: ANN001
    assert _cors_headers(client.options("/api/v1/events", headers=PREFLIGHT)) == {}
    assert _cors_headers(client.get("/api/v1/events", headers={"Origin": ALLOWED})) == {}


@pytest.mark.parametrize(
    "setting",
    ["*", "https://*.example.com", "https://door.example.com/app", "door.example.com", "null"],
)
def test_a_wildcard_or_pattern_in_the_setting_refuses_to_start(setting: str) -> None:
    with pytest.raises(RuntimeError, match="API_CORS_ORIGINS"):
        allowed_origins(f"{ALLOWED},{setting}")


def test_the_setting_is_parsed_into_exact_origins() -> None:
    assert allowed_origins("") == []
    assert allowed_origins(" HTTPS://Door.Example.com/ ,, http://localhost:3000") == [
        "https://door.example.com",
        "http://localhost:3000",
    ]
