"""One texted code sent twice at once (a double tap, a replayed form): the second verification
waits for the first one's row lock and then finds the number verified, so the code is spent
once. The control shows that without the lock both verifications pass.

The order is forced, not hoped for: the first verification waits, before it commits, until
the second is seen waiting for a lock in pg_stat_activity (with the lock), or until the
second has verified too (the control)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.accounts import phone
from app.domain.accounts.errors import AccountError
from app.domain.accounts.models import User
from app.domain.audit import AuditEntry
from tests.concurrency.test_guest_name_race import WAIT, wait_for_lock_waiter

SECRET = "test-secret"


@pytest.fixture
def pending(db, make_user, now):  # noqa: ANN001, ANN201
    """A user with an unverified number and the code texted to it (committed)."""
    user = make_user()
    phone.set_number(db, user, "+33612345678", now=now)
    code = phone.issue_code(db, user, secret_key=SECRET, site_name="E", now=now).code
    db.commit()
    return user.id, code


def _verifications(db: Session) -> int:
    db.expire_all()
    return db.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "phone.verified")
    )


def _race(parallel, now, pending) -> list:  # noqa: ANN001
    user_id, code = pending
    first_verified = threading.Event()

    def act(index: int, session: Session):  # noqa: ANN202
        user = session.get_one(User, user_id)
        if index == 0:
            phone.verify(session, user, code, secret_key=SECRET, now=now)
            first_verified.set()
            wait_for_lock_waiter(session)
            return "verified"
        assert first_verified.wait(WAIT)
        phone.verify(session, user, code, secret_key=SECRET, now=now)
        return "verified"

    return parallel.run(2, act)


def test_a_code_sent_twice_at_once_is_spent_once(parallel, db, now, pending) -> None:  # noqa: ANN001
    first, second = _race(parallel, now, pending)
    assert first == "verified"
    assert isinstance(second, AccountError) and second.code == "phone_verified"
    assert _verifications(db) == 1


def test_control_without_the_lock_the_code_is_spent_twice(
    parallel, db, now, pending, monkeypatch
) -> None:  # noqa: ANN001
    def unlocked(session: Session, user: User) -> phone.PhoneNumber:
        row = session.get(phone.PhoneNumber, user.id)
        assert row is not None and row.verified_at is None
        return row

    monkeypatch.setattr(phone, "_pending", unlocked)
    # The second reads the number unverified, then waits only for the row's update.
    assert _race(parallel, now, pending) == ["verified", "verified"]
    assert _verifications(db) == 2
