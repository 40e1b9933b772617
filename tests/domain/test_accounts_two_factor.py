"""TOTP enrolment, single-use codes, recovery codes, turning 2FA off."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import func, select

from app.domain.accounts import two_factor
from app.domain.accounts.errors import AccountError, ReauthRequired, WrongSecret
from app.domain.accounts.models import RecoveryCode, Role, UserSession
from app.domain.accounts.sessions import load_session_user, start_session, token_digest
from app.domain.audit import AuditEntry
from tests.factories.accounts import DEFAULT_PASSWORD


def _code(secret: str, at) -> str:  # noqa: ANN001
    return pyotp.TOTP(secret).at(at)


def _actions(db) -> list[str]:  # noqa: ANN001
    return list(db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


@pytest.fixture
def enrolled(db, now, make_user):  # noqa: ANN001, ANN201
    user = make_user(with_2fa=False)
    user.authenticated_at = now  # as right after a login
    secret = two_factor.start_enrolment(db, user)
    codes = two_factor.enable(db, user, code=_code(secret, now), now=now)
    return user, secret, codes


def test_enrolment_keeps_one_secret_until_confirmed(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user(with_2fa=False)
    secret = two_factor.start_enrolment(db, user)
    assert two_factor.start_enrolment(db, user) == secret
    assert not user.has_2fa
    uri = two_factor.provisioning_uri(secret, email=user.email, issuer="Eventhall")
    assert uri.startswith("otpauth://totp/Eventhall:") and f"secret={secret}" in uri


def test_a_wrong_first_code_leaves_2fa_off(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user(with_2fa=False)
    user.authenticated_at = now
    secret = two_factor.start_enrolment(db, user)
    wrong = _code(secret, now + timedelta(minutes=10))
    with pytest.raises(AccountError) as caught:
        two_factor.enable(db, user, code=wrong, now=now)
    assert caught.value.field == "code"
    assert not user.has_2fa
    assert db.scalar(select(func.count()).select_from(RecoveryCode)) == 0


def test_enabling_gives_ten_single_use_recovery_codes(db, now, enrolled) -> None:  # noqa: ANN001
    user, _secret, codes = enrolled
    assert user.has_2fa and user.totp_enabled_at == now
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = db.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)  # only hashes are stored
    assert _actions(db) == ["2fa.enabled"]


def test_a_code_is_accepted_once(db, now, enrolled) -> None:  # noqa: ANN001
    user, secret, _codes = enrolled
    later = now + timedelta(minutes=1)
    code = _code(secret, later)
    assert two_factor.check_code(db, user, code, now=later) == "totp"
    with pytest.raises(AccountError, match="already used"):
        two_factor.check_code(db, user, code, now=later)
    # An older code (the previous step, still inside the drift window) is refused as well.
    with pytest.raises(AccountError):
        two_factor.check_code(db, user, _code(secret, later - timedelta(seconds=30)), now=later)


def test_the_enrolment_code_cannot_be_replayed_at_login(db, now, enrolled) -> None:  # noqa: ANN001
    user, secret, _codes = enrolled
    with pytest.raises(AccountError):
        two_factor.check_code(db, user, _code(secret, now), now=now)


def test_clock_drift_of_one_step_is_tolerated(db, now, enrolled) -> None:  # noqa: ANN001
    user, secret, _codes = enrolled
    at = now + timedelta(minutes=5)
    assert two_factor.check_code(db, user, _code(secret, at + timedelta(seconds=30)), now=at)
    with pytest.raises(AccountError):
        two_factor.check_code(db, user, _code(secret, at + timedelta(seconds=95)), now=at)


@pytest.mark.parametrize("garbage", ["", "12345", "1234567", "abcdef", "12 34 5x"])
def test_malformed_codes_are_refused(db, now, enrolled, garbage) -> None:  # noqa: ANN001
    user, _secret, _codes = enrolled
    with pytest.raises(AccountError):
        two_factor.check_code(db, user, garbage, now=now + timedelta(minutes=2))


def test_recovery_codes_work_once_in_any_format(db, now, enrolled) -> None:  # noqa: ANN001
    user, _secret, codes = enrolled
    at = now + timedelta(minutes=3)
    assert two_factor.check_code(db, user, f"  {codes[0].upper()} ", now=at) == "recovery"
    with pytest.raises(AccountError):
        two_factor.check_code(db, user, codes[0], now=at)
    assert two_factor.check_code(db, user, codes[1].replace("-", ""), now=at) == "recovery"
    assert two_factor.remaining_recovery_codes(db, user) == 8
    entry = db.scalar(
        select(AuditEntry)
        .where(AuditEntry.action == "2fa.recovery_code_used")
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    assert entry.data == {"remaining": 8}


def test_new_recovery_codes_replace_the_old(db, now, enrolled) -> None:  # noqa: ANN001
    user, secret, old = enrolled
    at = now + timedelta(minutes=4)
    new = two_factor.regenerate_recovery_codes(db, user, code=_code(secret, at), now=at)
    assert len(new) == 10 and not set(new) & set(old)
    with pytest.raises(AccountError):
        two_factor.check_code(db, user, old[0], now=at)
    assert two_factor.check_code(db, user, new[0], now=at) == "recovery"


def test_turning_off_needs_the_password_and_a_code(db, now, enrolled) -> None:  # noqa: ANN001
    user, secret, _codes = enrolled
    at = now + timedelta(minutes=6)
    with pytest.raises(AccountError, match="password"):
        two_factor.disable(db, user, password="wrong password", code=_code(secret, at), now=at)
    with pytest.raises(AccountError):
        two_factor.disable(db, user, password=DEFAULT_PASSWORD, code="000000", now=at)
    assert user.has_2fa
    two_factor.disable(db, user, password=DEFAULT_PASSWORD, code=_code(secret, at), now=at)
    assert not user.has_2fa and user.totp_secret is None
    assert db.scalar(select(func.count()).select_from(RecoveryCode)) == 0
    assert _actions(db)[-1] == "2fa.disabled"


@pytest.mark.parametrize("role", [Role.ORGANIZER, Role.ADMIN])
def test_organizers_and_admins_cannot_turn_it_off(db, now, make_user, role) -> None:  # noqa: ANN001
    user = make_user(role=role)
    code = _code(user.totp_secret, now)
    with pytest.raises(AccountError, match="must keep"):
        two_factor.disable(db, user, password=DEFAULT_PASSWORD, code=code, now=now)
    assert user.has_2fa


def test_enabling_keeps_this_session_and_ends_the_others(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user(with_2fa=False)
    here = start_session(db, user, now=now, lifetime=timedelta(hours=1))
    elsewhere = start_session(db, user, now=now, lifetime=timedelta(hours=1))
    user.authenticated_at = now
    secret = two_factor.start_enrolment(db, user)
    two_factor.enable(db, user, code=_code(secret, now), now=now, session_token=here)
    assert load_session_user(db, here, now=now) is user
    assert db.get(UserSession, token_digest(here)).second_factor_done
    assert load_session_user(db, elsewhere, now=now) is None


def test_enrolling_needs_a_recent_proof_of_who_asks(db, now, make_user) -> None:  # noqa: ANN001
    """A stolen session must not put the account behind a factor the owner lacks."""
    user = make_user(with_2fa=False)
    secret = two_factor.start_enrolment(db, user)
    user.authenticated_at = now - timedelta(minutes=11)
    with pytest.raises(ReauthRequired):
        two_factor.enable(db, user, code=_code(secret, now), now=now)
    assert not user.has_2fa
    user.authenticated_at = now - timedelta(minutes=9)
    assert two_factor.enable(db, user, code=_code(secret, now), now=now)


def test_wrong_codes_and_passwords_are_guesses(db, now, enrolled) -> None:  # noqa: ANN001
    user, secret, _codes = enrolled
    with pytest.raises(WrongSecret):
        two_factor.check_code(db, user, "000000", now=now + timedelta(minutes=5))
    with pytest.raises(WrongSecret):
        two_factor.disable(
            db, user, password="wrong!", code=_code(secret, now + timedelta(minutes=5)), now=now
        )
