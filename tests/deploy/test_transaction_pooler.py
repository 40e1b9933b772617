"""DATABASE_TRANSACTION_POOLER and DATABASE_DIRECT_URL: what the app changes behind PgBouncer in
transaction mode (docs/scaling.md has the trial that found what breaks: the `options` startup
parameter, psycopg's prepared statements, LISTEN)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from app import create_app
from app.db import libpq_url, make_engine
from app.live import hub_for
from jobs.worker import Worker
from tests import pg
from tests.conftest import _test_config


def settings(engine) -> tuple[str, str, object]:  # noqa: ANN001
    with engine.connect() as conn:
        timeout, zone = conn.exec_driver_sql(
            "SELECT current_setting('lock_timeout'), current_setting('TimeZone')"
        ).one()
        return timeout, zone, conn.connection.driver_connection.prepare_threshold


@pytest.fixture
def bare_database() -> Iterator[str]:
    """A database of its own: the tests change its defaults as a role's would be."""
    url = pg.create_test_database()
    yield url
    pg.drop_test_database(url)


def set_defaults(url: str, **values: str) -> None:
    name = make_url(url).database
    with psycopg.connect(libpq_url(pg.admin_url()), autocommit=True) as conn:
        for setting, value in values.items():
            conn.execute(
                sql.SQL("ALTER DATABASE {} SET {} = {}").format(
                    sql.Identifier(name), sql.Identifier(setting), sql.Literal(value)
                )
            )


def test_a_pooled_engine_sends_no_options_and_prepares_nothing(database_url: str) -> None:
    direct = make_engine(database_url, lock_timeout_ms=1500)
    pooled = make_engine(database_url, lock_timeout_ms=1500, pooled=True)
    try:
        assert settings(direct)[:2] == ("1500ms", "UTC")
        timeout, _zone, prepare = settings(pooled)
        assert timeout != "1500ms"  # from the server's defaults, not a startup parameter
        assert prepare is None
    finally:
        direct.dispose()
        pooled.dispose()


def test_pooled_mode_refuses_to_start_without_the_roles_settings(
    bare_database: str, tmp_path: Path
) -> None:
    config = _test_config(bare_database, tmp_path, DATABASE_TRANSACTION_POOLER=True)
    set_defaults(bare_database, lock_timeout="0")
    with pytest.raises(
        RuntimeError, match=r"ALTER ROLE <user> SET lock_timeout = '2s'.*now lock_timeout=0"
    ):
        create_app(config)
    set_defaults(bare_database, lock_timeout="2s", timezone="UTC")
    application = create_app(config)
    try:
        database = application.extensions["db"]
        assert database.pooled and settings(database.engine)[:2] == ("2s", "UTC")
        assert database.sibling(pool_size=1).pooled  # the render and attempt pools follow it
    finally:
        application.extensions["db"].engine.dispose()


def test_listen_the_worker_and_migrations_use_the_direct_url(
    database_url: str, tmp_path: Path
) -> None:
    """DATABASE_URL names a database that does not exist: whatever works, used the direct one."""
    pooler = make_url(database_url).set(database="no_such_database")
    pooler_url = pooler.render_as_string(hide_password=False)
    config = _test_config(pooler_url, tmp_path, DATABASE_DIRECT_URL=database_url)
    application = create_app(config)
    try:
        assert hub_for(application).dsn == libpq_url(database_url)
        assert Worker(application.config).url == database_url
        assert application.extensions["db"].url == pooler_url  # requests: the pooler's
        result = application.test_cli_runner().invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert "database upgraded to head" in result.output
    finally:
        application.extensions["db"].engine.dispose()
