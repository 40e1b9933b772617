"""Migration 0012: the events' signing keys table comes and goes with its migration."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from app.db import make_engine
from app.migrate import alembic_config, upgrade


def tables(url: str) -> set[str]:
    engine = make_engine(url, pool_size=1)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_the_signing_keys_table_goes_down_and_up_again(blank_url: str) -> None:
    upgrade(blank_url, "0012")
    assert "event_signing_keys" in tables(blank_url)
    command.downgrade(alembic_config(blank_url), "0011")
    assert "event_signing_keys" not in tables(blank_url)
    upgrade(blank_url, "0012")
    assert "event_signing_keys" in tables(blank_url)
