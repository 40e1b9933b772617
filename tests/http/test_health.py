"""Liveness and readiness probes."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import text


def test_healthz_answers_while_alive(client) -> None:  # noqa: ANN001
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_is_ready_at_head(client) -> None:  # noqa: ANN001
    response = client.get("/readyz")
    assert response.status_code == 200, response.json


def test_readyz_refuses_when_migrations_are_behind(app: Flask, client) -> None:  # noqa: ANN001
    engine = app.extensions["db"].engine
    with engine.begin() as conn:
        head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert "migrations not at head" in response.json["reason"]
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})


def test_readyz_refuses_when_database_is_unreachable(database_url: str, tmp_path) -> None:  # noqa: ANN001
    from app import create_app

    broken = database_url.replace("eh_t_", "eh_missing_")
    application = create_app(
        {
            "APP_ENV": "test",
            "DATABASE_URL": broken,
            "SECRET_KEY": "x",
            "INSTANCE_DIR": str(tmp_path),
        }
    )
    response = application.test_client().get("/readyz")
    assert response.status_code == 503
    assert "database unreachable" in response.json["reason"]
