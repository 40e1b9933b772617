"""Rate-limited attempts from the web side (app/domain/accounts/rate_limit.py).

An attempt is taken before its secret is checked, and committed at once on a transaction of
its own: the request may fail and roll back, the attempt still counts. These transactions run
on a small pool of their own. A signed-in request already holds one of the request pool's
connections when it asks; if it took a second one from the same pool, a burst of such
requests could hold them all and wait for each other until the pool timed out.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.db import Database, get_db, get_session
from app.domain.accounts import rate_limit
from app.domain.accounts.errors import WrongSecret
from app.domain.accounts.login import audit_login_failure
from app.domain.accounts.models import AttemptOutcome
from app.domain.base import utcnow
from app.web.network import client_ip, client_network

EXTENSION = "eventhall.attempts_db"
POOL_SIZE = 2
_create_lock = threading.Lock()


def _database(app: Flask) -> Database:
    database = app.extensions.get(EXTENSION)
    if database is None:
        with _create_lock:
            database = app.extensions.get(EXTENSION)
            if database is None:
                main = get_db()
                database = main.sibling(pool_size=POOL_SIZE)
                # Closed with the app's own engine (tests open and close many apps).
                event.listen(main.engine, "engine_disposed", lambda _e: database.engine.dispose())
                app.extensions[EXTENSION] = database
    return database


@contextmanager
def _own_transaction() -> Iterator[Session]:
    with _database(current_app).session() as session:
        yield session
        session.commit()


def take(action: str, subject: str) -> int:
    """Count an attempt (TooManyAttempts when a limit is full); return its id to settle."""
    policy = rate_limit.policy(action, current_app.config)
    with _own_transaction() as session:
        attempt = rate_limit.take(
            session, policy, subject=subject, network=client_network(), now=utcnow()
        )
        return attempt.id


def settle(attempt_id: int, outcome: AttemptOutcome) -> None:
    with _own_transaction() as session:
        rate_limit.settle(session, attempt_id, outcome)


@contextmanager
def guarded(subject: str, action: str = rate_limit.REAUTH) -> Iterator[None]:
    """Ask a signed-in user for a secret again (rate_limit's "reauth", or `action`): a wrong
    secret stays a counted failure; anything else ends the attempt, a success clearing
    earlier failures."""
    attempt_id = take(action, subject)
    try:
        yield
    except WrongSecret:
        raise
    except BaseException:
        settle(attempt_id, AttemptOutcome.NEUTRAL)
        raise
    # In the request's transaction, which may have touched the row (an account erased).
    rate_limit.settle(get_session(), attempt_id, AttemptOutcome.SUCCEEDED)


def audit_failure(email: str, reason: str) -> None:
    """Audit a failed login on its own transaction: the failed request itself rolls back."""
    with _own_transaction() as session:
        audit_login_failure(session, email=email, ip=client_ip(), now=utcnow(), reason=reason)
