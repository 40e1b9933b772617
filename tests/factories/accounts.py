"""Factories for account tests."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from app.domain.accounts.models import Role, User
from app.domain.accounts.passwords import hash_password
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
