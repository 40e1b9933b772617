"""Run Alembic migrations from code and tell whether a database is at head."""

from __future__ import annotations

from functools import cache

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from app.config import ROOT


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


@cache
def head_revisions() -> frozenset[str]:
    """The migration heads in the code (fixed for the life of a process)."""
    return frozenset(ScriptDirectory.from_config(alembic_config("")).get_heads())


def pending_reason(engine: Engine) -> str | None:
    """None when the database is at the migrations' head, else why it is not."""
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    heads = head_revisions()
    if current != heads:
        found = sorted(current) or "empty"
        return f"migrations not at head (database: {found}, code: {sorted(heads)})"
    return None
