"""Shared fixtures: a real PostgreSQL per test module, the app, a clock, browsers.

Data isolation: each module gets its own database copied from a migrated template, and every
table is truncated after each test, so tests that commit (concurrency tests do) stay isolated.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from app.domain.base import utcnow

# Tests import it from here; it lives in the app, which the benchmarks import too.
from app.web.csrf_token import csrf_token_from as csrf_token_from
from tests import pg

pytest_plugins = [
    "tests.factories.accounts",
    "tests.factories.events",
    "tests.factories.ticketing",
    "tests.factories.checkin",
    "tests.factories.analytics",
    "tests.factories.notifications",
    "tests.factories.teams",
    "tests.factories.webhooks",
    "tests.browser",
    "tests.smtp_sink",
]

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
# Browser tests walk through many pages, each checked with axe: the longest took 47 s on a
# busy machine, so they get more than the 120 s every other test has (pyproject.toml).
BROWSER_TEST_TIMEOUT = 300


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("e2e") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(BROWSER_TEST_TIMEOUT))


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    url = pg.create_test_database()
    yield url
    pg.drop_test_database(url)


def _test_config(database_url: str, tmp_path: Path, **overrides: object) -> dict[str, object]:
    config: dict[str, object] = {
        "APP_ENV": "test",
        "TESTING": True,
        "DEBUG": False,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": False,
        # A test changes an event and reads its page at once: the per-process cache would
        # answer before the change's notification arrived (tests/http/test_hot_reads.py on).
        "EVENT_CACHE_SECONDS": 0,
        "MAIL_BACKEND": "outbox",
        "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
        "MEDIA_DIR": str(tmp_path / "media"),
        "INSTANCE_DIR": str(tmp_path),
        "DB_POOL_SIZE": 20,
        "SERVER_NAME": None,
    }
    config.update(overrides)
    return config


@pytest.fixture(scope="module")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    from app import create_app

    application = create_app(_test_config(database_url, tmp_path_factory.mktemp("instance")))
    yield application
    _stop_live_listener(application)
    application.extensions["db"].engine.dispose()


@pytest.fixture(scope="module")
def csrf_app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app with CSRF protection on, as in production."""
    from app import create_app

    application = create_app(
        _test_config(database_url, tmp_path_factory.mktemp("instance"), WTF_CSRF_ENABLED=True)
    )
    yield application
    _stop_live_listener(application)
    application.extensions["db"].engine.dispose()


def _stop_live_listener(application: Flask) -> None:
    """Close the LISTEN connection a test's live streams opened (app/live.py), if any, and the
    connections the seat map renderings used."""
    hub = application.extensions.get("live_hub")
    if hub is not None:
        hub.close()
    fragments = application.extensions.get("live_fragments")
    if fragments is not None:
        fragments.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    """A session on the module's database; every table is emptied after the test."""
    database = app.extensions["db"]
    session = database.session()
    yield session
    session.rollback()
    session.close()
    truncate_all(database.engine)


def truncate_all(engine) -> None:  # noqa: ANN001
    """Empty every table. A request still finishing in a server thread (an SSE stream, say) can
    hold a lock that deadlocks with TRUNCATE: PostgreSQL then aborts one side, so try again."""
    for attempt in range(5):
        try:
            _truncate(engine)
            return
        except OperationalError:
            if attempt == 4:
                raise
            time.sleep(0.2 * (attempt + 1))


def _truncate(engine) -> None:  # noqa: ANN001
    with engine.begin() as conn:
        tables = conn.execute(
            text(
                "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables "
                "WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
        ).scalars()
        names = ", ".join(tables)
        if names:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            # Ids go on from where they were: a stream or a NOTIFY left over from an earlier
            # test (a browser's stream ends at its next keep-alive) then names an object that
            # no longer exists, never this test's object of the same id.
            conn.execute(text(f"TRUNCATE {names} CASCADE"))


@pytest.fixture
def now() -> datetime:
    """The real time when the test starts, fixed for the whole test: services that take the
    time as a parameter get this one. It follows the real clock (not a date written here),
    because pages and jobs read the real clock and a fixed date would one day be in the past.
    A test that needs a particular day (a Tuesday, a winter date) passes its own `now`."""
    return utcnow()


class LiveServer:
    def __init__(self, app: Flask) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()


@pytest.fixture(scope="module")
def live_server(csrf_app: Flask) -> Iterator[LiveServer]:
    """The app (CSRF on) served over real HTTP in a thread, for browser tests."""
    with LiveServer(csrf_app) as server:
        yield server


@pytest.fixture(scope="session", autouse=True)
def _artifacts_dir() -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    os.environ.setdefault("EH_ARTIFACTS", str(ARTIFACTS))
