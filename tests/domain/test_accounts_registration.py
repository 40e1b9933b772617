"""Registration, password rules and email verification, without HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.domain.accounts import registration
from app.domain.accounts.errors import AccountError, InvalidToken
from app.domain.accounts.models import Role, User
from app.domain.accounts.password_policy import check_password, common_passwords
from app.domain.accounts.passwords import verify_password
from app.domain.accounts.registration import (
    create_admin,
    register_user,
    verification_token,
    verify_email,
)
from app.domain.audit import AuditEntry

SECRET = "test-secret"
GOOD = "a sturdy passphrase"


def _count_users(db) -> int:  # noqa: ANN001
    return db.scalar(select(func.count()).select_from(User))


def test_register_creates_an_unverified_attendee(db, now) -> None:  # noqa: ANN001
    outcome = register_user(
        db, name="  Ana   Lima ", email="Ana@Example.COM", password=GOOD, now=now
    )
    user = outcome.user
    assert outcome.created
    assert user.role == Role.ATTENDEE
    assert user.name == "Ana Lima"
    assert user.email == "Ana@example.com"  # the domain is normalized, the local part kept
    assert user.email_verified_at is None
    assert user.password_hash != GOOD and verify_password(user.password_hash, GOOD)
    assert db.scalar(select(AuditEntry.action).where(AuditEntry.target_id == user.id)) == (
        "account.registered"
    )


def test_a_taken_address_answers_with_its_owner_unchanged(db, now, make_user, monkeypatch) -> None:  # noqa: ANN001
    owner = make_user(email="taken@example.test", name="Owner")
    hashed: list[str] = []
    real_hash = registration.hash_password
    monkeypatch.setattr(registration, "hash_password", lambda p: hashed.append(p) or real_hash(p))
    outcome = register_user(db, name="B", email="TAKEN@Example.Test", password=GOOD, now=now)
    assert outcome.user is owner and not outcome.created
    assert owner.name == "Owner" and not verify_password(owner.password_hash, GOOD)
    assert _count_users(db) == 1
    # As slow as a new account: the password is hashed all the same.
    assert hashed == [GOOD]
    assert db.scalar(
        select(AuditEntry.action).where(AuditEntry.action == "account.registration_refused")
    )


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "two@@example.com", "x@.com", ""])
def test_malformed_email_is_refused(db, now, email) -> None:  # noqa: ANN001
    with pytest.raises(AccountError) as caught:
        register_user(db, name="A", email=email, password=GOOD, now=now)
    assert caught.value.field == "email"
    assert caught.value.message.startswith("Enter a valid email address")
    assert _count_users(db) == 0


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short1!", "password_short"),
        ("123456789", "password_short"),
        ("1234567890", "password_common"),
        ("Password123", "password_common"),
        ("aaaaaaaaaaaa", "password_common"),
        ("ana@example.com", "password_common"),
        ("x" * 201, "password_long"),
    ],
)
def test_weak_passwords_are_refused(db, now, password, code) -> None:  # noqa: ANN001
    with pytest.raises(AccountError) as caught:
        register_user(db, name="Ana", email="ana@example.com", password=password, now=now)
    assert caught.value.code == code
    assert caught.value.field == "password"
    assert _count_users(db) == 0


def test_the_common_list_is_loaded_and_lowercase() -> None:
    words = common_passwords()
    assert len(words) > 100
    assert all(w == w.lower() and len(w) >= 10 for w in words)
    check_password("correct horse battery staple")


def test_verification_link_marks_the_email_verified_once(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user(verified=False)
    token = verification_token(SECRET, user, now=now)
    assert verify_email(db, SECRET, token, max_age=3600, now=now + timedelta(minutes=5)) == (
        user,
        [],
    )
    assert user.email_verified_at == now + timedelta(minutes=5)
    # Opening it again is harmless and keeps the first time.
    verify_email(db, SECRET, token, max_age=3600, now=now + timedelta(minutes=9))
    assert user.email_verified_at == now + timedelta(minutes=5)


def test_verification_link_expires(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user(verified=False)
    token = verification_token(SECRET, user, now=now)
    with pytest.raises(InvalidToken, match="expired"):
        verify_email(db, SECRET, token, max_age=3600, now=now + timedelta(seconds=3601))
    assert user.email_verified_at is None


def test_verification_link_dies_when_the_email_changes(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user(verified=False, email="first@example.test")
    token = verification_token(SECRET, user, now=now)
    user.email = "second@example.test"
    with pytest.raises(InvalidToken):
        verify_email(db, SECRET, token, max_age=3600, now=now)
    assert user.email_verified_at is None


@pytest.mark.parametrize("mangle", [lambda t: t[:-2] + "xx", lambda t: "garbage", lambda t: ""])
def test_tampered_verification_link_is_refused(db, now, make_user, mangle) -> None:  # noqa: ANN001
    user = make_user(verified=False)
    token = mangle(verification_token(SECRET, user, now=now))
    with pytest.raises(InvalidToken):
        verify_email(db, SECRET, token, max_age=3600, now=now)
    with pytest.raises(InvalidToken):
        verify_email(
            db, "another-secret", verification_token(SECRET, user, now=now), max_age=3600, now=now
        )


def test_create_admin_is_verified_and_audited(db, now) -> None:  # noqa: ANN001
    admin = create_admin(db, name="Root", email="root@example.test", password=GOOD, now=now)
    assert admin.role == Role.ADMIN and admin.email_verified_at == now
    assert not admin.has_2fa  # enrolled at the first visit to the admin pages
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "role.changed"))
    assert entry.target_id == admin.id and entry.data["after"] == {"role": "admin"}
    with pytest.raises(AccountError, match="already exists"):
        create_admin(db, name="Root", email="ROOT@example.test", password=GOOD, now=now)
