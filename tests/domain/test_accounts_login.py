"""Password login, user enumeration, rate limiting and server-side sessions, without HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.domain.accounts import login as login_module
from app.domain.accounts.errors import InvalidCredentials, TooManyAttempts
from app.domain.accounts.login import (
    EmailNotVerified,
    authenticate,
    record_login_failure,
)
from app.domain.accounts.models import UserSession
from app.domain.accounts.rate_limit import LoginLimits, check_login_allowed, record_attempt
from app.domain.accounts.sessions import (
    load_session_user,
    revoke_user_sessions,
    start_session,
    token_digest,
)
from app.domain.audit import AuditEntry
from tests.factories.accounts import DEFAULT_PASSWORD

LIMITS = LoginLimits(per_account=3, per_ip=5, window=timedelta(minutes=15))
IP = "203.0.113.9"


def _login(db, now, email, password=DEFAULT_PASSWORD, ip=IP):  # noqa: ANN001, ANN202
    return authenticate(db, email=email, password=password, ip=ip, limits=LIMITS, now=now)


def test_right_password_logs_in_whatever_the_email_case(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user(email="Mia@Example.test")
    assert _login(db, now, "  mia@EXAMPLE.test ") is user


def test_unknown_email_and_wrong_password_answer_alike(db, now, make_user, monkeypatch) -> None:  # noqa: ANN001
    make_user(email="known@example.test")
    checked: list[str | None] = []
    real_verify = login_module.verify_password

    def spy(password_hash, password):  # noqa: ANN001, ANN202
        checked.append(password_hash)
        return real_verify(password_hash, password)

    monkeypatch.setattr(login_module, "verify_password", spy)
    with pytest.raises(InvalidCredentials) as wrong:
        _login(db, now, "known@example.test", "not the password")
    with pytest.raises(InvalidCredentials) as unknown:
        _login(db, now, "nobody@example.test", "not the password")
    assert wrong.value.message == unknown.value.message
    # Both paths spend one argon2 verification (the unknown email against a dummy hash).
    assert len(checked) == 2 and all(h and h.startswith("$argon2id$") for h in checked)


def test_deleted_and_passwordless_accounts_cannot_log_in(db, now, make_user) -> None:  # noqa: ANN001
    deleted = make_user(email="gone@example.test")
    deleted.deleted_at = now
    oauth_only = make_user(email="oauth@example.test")
    oauth_only.password_hash = None
    for email in ("gone@example.test", "oauth@example.test"):
        with pytest.raises(InvalidCredentials):
            _login(db, now, email)


def test_unverified_email_is_told_only_after_the_right_password(db, now, make_user) -> None:  # noqa: ANN001
    make_user(email="new@example.test", verified=False)
    with pytest.raises(InvalidCredentials):
        _login(db, now, "new@example.test", "wrong password!")
    with pytest.raises(EmailNotVerified):
        _login(db, now, "new@example.test")


def test_account_is_locked_after_too_many_failures_then_reopens(db, now, make_user) -> None:  # noqa: ANN001
    make_user(email="target@example.test")
    for minute in range(3):
        record_login_failure(
            db,
            email="target@example.test",
            ip=f"198.51.100.{minute}",
            now=now + timedelta(minutes=minute),
            reason="password",
        )
    # Even the right password is refused while locked; the wait counts from the oldest of
    # the three failures (minute 0) plus the 15-minute window.
    later = now + timedelta(minutes=5)
    with pytest.raises(TooManyAttempts) as caught:
        _login(db, later, "target@example.test")
    assert caught.value.retry_after == 600
    assert caught.value.status == 429
    assert caught.value.message == "Too many attempts. Try again in 600 seconds."
    assert _login(db, now + timedelta(minutes=15, seconds=1), "target@example.test")


def test_failures_before_a_success_do_not_count_for_the_account(db, now, make_user) -> None:  # noqa: ANN001
    make_user(email="me@example.test")

    def attempt(second: int, *, success: bool = False) -> None:
        record_attempt(
            db,
            email="me@example.test",
            ip=None,
            success=success,
            now=now + timedelta(seconds=second),
        )

    def allowed(second: int) -> bool:
        try:
            check_login_allowed(
                db,
                email="me@example.test",
                ip=None,
                limits=LIMITS,
                now=now + timedelta(seconds=second),
            )
        except TooManyAttempts:
            return False
        return True

    attempt(0)
    attempt(1)
    attempt(5, success=True)
    attempt(6)
    # Three failures in the window, but only the one after the success counts (limit: 3).
    assert allowed(7)
    attempt(8)
    attempt(9)
    assert not allowed(10)  # three failures since the success


def test_one_ip_is_limited_across_accounts(db, now) -> None:  # noqa: ANN001
    for n in range(5):
        record_attempt(db, email=f"victim{n}@example.test", ip=IP, success=False, now=now)
    with pytest.raises(TooManyAttempts):
        check_login_allowed(db, email="fresh@example.test", ip=IP, limits=LIMITS, now=now)
    check_login_allowed(db, email="fresh@example.test", ip="192.0.2.1", limits=LIMITS, now=now)


def test_failures_are_audited_with_the_typed_email(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user(email="audited@example.test")
    record_login_failure(db, email="Audited@example.test", ip=IP, now=now, reason="password")
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "login.failure"))
    assert entry.target_id == user.id and str(entry.ip) == IP
    assert entry.data == {"reason": "password", "email": "audited@example.test"}


def test_session_rows_store_only_a_digest_and_resolve_the_user(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user()
    token = start_session(db, user, now=now, lifetime=timedelta(hours=1))
    row = db.scalar(select(UserSession).where(UserSession.user_id == user.id))
    assert row.id == token_digest(token) and row.id != token
    assert user.last_login_at == now
    assert load_session_user(db, token, now=now + timedelta(minutes=59)) is user
    assert load_session_user(db, token, now=now + timedelta(hours=1)) is None  # expired
    assert load_session_user(db, "forged-token", now=now) is None


def test_revoked_sessions_and_deleted_users_are_not_loaded(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user()
    kept = start_session(db, user, now=now, lifetime=timedelta(hours=1))
    other = start_session(db, user, now=now, lifetime=timedelta(hours=1))
    assert revoke_user_sessions(db, user.id, now=now, keep_token=kept) == 1
    assert load_session_user(db, other, now=now) is None
    assert load_session_user(db, kept, now=now) is user
    user.deleted_at = now
    db.flush()
    assert load_session_user(db, kept, now=now) is None


def test_last_seen_is_written_at_most_every_five_minutes(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user()
    token = start_session(db, user, now=now, lifetime=timedelta(hours=1))
    row = db.get(UserSession, token_digest(token))
    load_session_user(db, token, now=now + timedelta(minutes=4))
    db.refresh(row)
    assert row.last_seen_at == now
    load_session_user(db, token, now=now + timedelta(minutes=6))
    db.refresh(row)
    assert row.last_seen_at == now + timedelta(minutes=6)


def test_prune_login_attempts_keeps_recent_ones(db, now) -> None:  # noqa: ANN001
    from datetime import timedelta

    from sqlalchemy import func, select

    from app.domain.accounts.models import LoginAttempt
    from app.domain.accounts.rate_limit import prune_login_attempts, record_attempt

    record_attempt(
        db, email="old@example.test", ip="10.0.0.1", success=False, now=now - timedelta(days=2)
    )
    record_attempt(
        db, email="new@example.test", ip="10.0.0.1", success=False, now=now - timedelta(hours=1)
    )
    assert prune_login_attempts(db, now=now) == 1
    assert db.scalar(select(func.count()).select_from(LoginAttempt)) == 1
