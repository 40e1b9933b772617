"""Fixtures of the domain tests: an empty database for the migration tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from app.db import libpq_url
from tests import pg


@pytest.fixture
def blank_url() -> Iterator[str]:
    """A new, empty database (no migration run), dropped after the test."""
    name = f"eh_m_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(libpq_url(pg.admin_url()), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = pg._with_database(pg.admin_url(), name)
    yield url
    pg.drop_test_database(url)
