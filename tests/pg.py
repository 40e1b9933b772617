"""A real PostgreSQL for the tests: embedded by default, or the server in DATABASE_URL.

The schema is migrated once into a template database (named by a hash of the migrations, so
an unchanged schema is reused across runs); each test module gets its own copy of it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from pathlib import Path

import fasteners
import psycopg
from psycopg import sql

from app.config import ROOT
from app.db import libpq_url, start_embedded_postgres

_admin_url: str | None = None


def admin_url() -> str:
    """A URL to the server's maintenance database, starting the embedded server if needed."""
    global _admin_url
    if _admin_url is None:
        external = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
        if external:
            _admin_url = external
        else:
            # A short path: the server's Unix socket lives in its data directory.
            key = hashlib.sha256(str(ROOT).encode()).hexdigest()[:8]
            base = Path(tempfile.gettempdir()) / f"eh-test-{key}"
            _admin_url = start_embedded_postgres(base / "pgdata", database="eh_admin")
    return _admin_url


def _with_database(url: str, name: str) -> str:
    """`url` pointing at database `name` (keeping host/socket parameters)."""
    from sqlalchemy.engine import make_url

    return make_url(libpq_url(url)).set(database=name).render_as_string(hide_password=False)


def schema_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted((ROOT / "migrations" / "versions").glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def template_database() -> str:
    """Name of a template database migrated to head (created once per schema version)."""
    name = f"eh_tpl_{schema_fingerprint()}"
    lock = fasteners.InterProcessLock(Path(tempfile.gettempdir()) / f"{name}.lock")
    with lock, psycopg.connect(libpq_url(admin_url()), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            return name
        building = f"{name}_build_{uuid.uuid4().hex[:6]}"
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(building)))
        from app.migrate import upgrade

        upgrade(_with_database(admin_url(), building))
        conn.execute(
            sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                sql.Identifier(building), sql.Identifier(name)
            )
        )
    return name


def create_test_database() -> str:
    """A fresh copy of the template; returns its URL."""
    template = template_database()
    name = f"eh_t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(libpq_url(admin_url()), autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        )
    return _with_database(admin_url(), name)


def drop_test_database(url: str) -> None:
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    with psycopg.connect(libpq_url(admin_url()), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
