"""Factories for account tests: `make_user(...)` and `login_as(client, user)`."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, object_session

from app.domain.accounts.models import Role, User
from app.domain.accounts.passwords import hash_password
from app.domain.accounts.sessions import start_session
from app.domain.base import utcnow

DEFAULT_PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)
# Hashing is deliberately slow; the factory reuses one hash for the default password.
_default_hash = hash_password(DEFAULT_PASSWORD)


@pytest.fixture
def make_user(db: Session) -> Callable[..., User]:
    """`make_user(role=Role.ORGANIZER, with_2fa=True, email=..., password=...)` -> flushed User."""

    def create(
        *,
        role: Role = Role.ATTENDEE,
        email: str | None = None,
        name: str | None = None,
        password: str = DEFAULT_PASSWORD,
        verified: bool = True,
        with_2fa: bool | None = None,
    ) -> User:
        n = next(_counter)
        user = User(
            email=email or f"user{n}@example.test",
            name=name or f"User {n}",
            password_hash=_default_hash
            if password == DEFAULT_PASSWORD
            else hash_password(password),
            role=role,
            email_verified_at=utcnow() if verified else None,
        )
        if with_2fa if with_2fa is not None else role in (Role.ORGANIZER, Role.ADMIN):
            import pyotp

            user.totp_secret = pyotp.random_base32()
            user.totp_enabled_at = utcnow()
        db.add(user)
        db.flush()
        return user

    return create


@pytest.fixture
def login_as() -> Callable[[FlaskClient, User], None]:
    """`login_as(client, user)`: the client is signed in as `user` (second factor done).

    Skips the login form: it inserts a session row and puts its token in the client's
    cookie session, exactly what a completed login leaves behind. It commits the user's
    session so the app (on other connections) sees both the user and the row.
    """

    def log_in(client: FlaskClient, user: User) -> None:
        session = object_session(user)
        if session is None:
            raise ValueError("login_as needs a user attached to a Session (e.g. from make_user)")
        token = start_session(
            session,
            user,
            now=utcnow(),
            lifetime=timedelta(hours=12),
            second_factor_done=user.has_2fa,
            user_agent="pytest",
        )
        session.commit()
        with client.session_transaction() as cookie_session:
            cookie_session.clear()
            cookie_session["_user_id"] = token
            cookie_session["_fresh"] = True

    return log_in


@pytest.fixture
def mailbox(db: Session) -> Callable[..., list[dict]]:
    """`mailbox(to=None)`: payloads of the emails queued in the outbox (committed or in `db`),
    oldest first, optionally only those to one address."""
    from sqlalchemy import select

    from app.domain.notifications.mail import EMAIL_TOPIC
    from app.domain.outbox import OutboxMessage

    def read(to: str | None = None) -> list[dict]:
        payloads = db.scalars(
            select(OutboxMessage.payload)
            .where(OutboxMessage.topic == EMAIL_TOPIC)
            .order_by(OutboxMessage.id)
        ).all()
        return [p for p in payloads if to is None or p["to"].lower() == to.lower()]

    return read


def link_in(text: str, path: str) -> str:
    """The path (and query) of the first link in `text` whose path starts with `path`."""
    import re
    from urllib.parse import urlsplit

    for url in re.findall(r"https?://[^\s\"<>]+", text):
        parts = urlsplit(url)
        if parts.path.startswith(path):
            return parts.path + (f"?{parts.query}" if parts.query else "")
    raise AssertionError(f"no {path} link in: {text}")
