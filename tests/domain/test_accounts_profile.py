"""Changes a user makes to their own account, and deleting it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.domain.accounts import deletion, profile
from app.domain.accounts.errors import AccountError, InvalidToken
from app.domain.accounts.models import (
    OAuthIdentity,
    OrganizerApplication,
    PasswordResetToken,
    RecoveryCode,
    Role,
    UserSession,
)
from app.domain.accounts.passwords import verify_password
from app.domain.accounts.sessions import load_session_user, start_session
from app.domain.audit import AuditEntry
from app.domain.events.models import EventStatus
from app.domain.ticketing.models import Booking, BookingStatus, Ticket, Unit
from tests.factories.accounts import DEFAULT_PASSWORD

SECRET = "test-secret"
NEW = "a brand new passphrase"


def test_details_are_cleaned(db, make_user) -> None:  # noqa: ANN001
    user = make_user()
    profile.update_details(db, user, name="  Zoë   Q ", phone=" +49 30  1234567 ")
    assert (user.name, user.phone) == ("Zoë Q", "+49 30 1234567")
    profile.update_details(db, user, name="Zoë", phone="")
    assert user.phone is None


@pytest.mark.parametrize("phone", ["call me", "12345", "+1 555 1234 5678 9999", "12<script>"])
def test_bad_phone_numbers_change_nothing(db, make_user, phone) -> None:  # noqa: ANN001
    user = make_user(name="Kept")
    with pytest.raises(AccountError) as caught:
        profile.update_details(db, user, name="Changed", phone=phone)
    assert caught.value.field == "phone"
    assert user.name == "Kept" and user.phone is None


def test_password_change_checks_the_current_one_and_ends_other_sessions(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user()
    here = start_session(db, user, now=now, lifetime=timedelta(hours=1))
    elsewhere = start_session(db, user, now=now, lifetime=timedelta(hours=1))
    with pytest.raises(AccountError) as caught:
        profile.change_password(
            db, user, current_password="wrong!", new_password=NEW, keep_session_token=here, now=now
        )
    assert caught.value.field == "current_password"
    assert verify_password(user.password_hash, DEFAULT_PASSWORD)
    profile.change_password(
        db,
        user,
        current_password=DEFAULT_PASSWORD,
        new_password=NEW,
        keep_session_token=here,
        now=now,
    )
    assert verify_password(user.password_hash, NEW)
    assert load_session_user(db, here, now=now) is user
    assert load_session_user(db, elsewhere, now=now) is None
    assert db.scalar(select(AuditEntry.action).order_by(AuditEntry.id.desc()).limit(1)) == (
        "password.changed"
    )


def test_a_provider_only_account_may_set_a_first_password(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user()
    user.password_hash = None
    profile.change_password(
        db, user, current_password="", new_password=NEW, keep_session_token=None, now=now
    )
    assert verify_password(user.password_hash, NEW)


def test_email_change_happens_only_through_the_link(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user(email="old@example.test")
    new, token = profile.request_email_change(
        db,
        user,
        new_email="New@Example.test",
        password=DEFAULT_PASSWORD,
        secret_key=SECRET,
        now=now,
    )
    assert new == "New@example.test" and user.email == "old@example.test"
    changed, old = profile.confirm_email_change(db, SECRET, token, max_age=3600, now=now)
    assert (changed.email, old) == ("New@example.test", "old@example.test")
    assert changed.email_verified_at == now
    with pytest.raises(InvalidToken):  # the link names the old address: now stale
        profile.confirm_email_change(db, SECRET, token, max_age=3600, now=now)


def test_email_change_refusals_change_nothing(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user(email="me@example.test")
    make_user(email="other@example.test")
    cases = [
        ({"new_email": "x@example.test", "password": "wrong"}, "password"),
        ({"new_email": "OTHER@example.test", "password": DEFAULT_PASSWORD}, "email"),
        ({"new_email": "nonsense", "password": DEFAULT_PASSWORD}, "email"),
        ({"new_email": "ME@example.test", "password": DEFAULT_PASSWORD}, "email"),
    ]
    for kwargs, field in cases:
        with pytest.raises(AccountError) as caught:
            profile.request_email_change(db, user, secret_key=SECRET, now=now, **kwargs)
        assert caught.value.field == field
    assert user.email == "me@example.test"


def test_email_change_link_fails_if_the_address_was_taken_meanwhile(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user(email="me2@example.test")
    _, token = profile.request_email_change(
        db,
        user,
        new_email="race@example.test",
        password=DEFAULT_PASSWORD,
        secret_key=SECRET,
        now=now,
    )
    make_user(email="race@example.test")
    with pytest.raises(AccountError, match="already exists"):
        profile.confirm_email_change(db, SECRET, token, max_age=3600, now=now)
    assert user.email == "me2@example.test"


def test_preferences_accept_only_known_categories(db, make_user, make_category) -> None:  # noqa: ANN001
    user = make_user()
    music, tech = make_category(name="Music"), make_category(name="Tech")
    profile.update_preferences(
        db, user, category_ids=[tech.id, music.id], home_city="  Lisbon ", mode="in_person"
    )
    assert user.preferences == {
        "categories": sorted([music.id, tech.id]),
        "home_city": "Lisbon",
        "mode": "in_person",
    }
    for kwargs in (
        {"category_ids": [999999], "mode": "any"},
        {"category_ids": [], "mode": "teleport"},
    ):
        with pytest.raises(AccountError):
            profile.update_preferences(db, user, home_city="Porto", **kwargs)
    assert user.preferences["home_city"] == "Lisbon"


def test_deleting_erases_personal_data_and_keeps_bookings(db, now, make_user, make_tier) -> None:  # noqa: ANN001
    user = make_user(email="leaving@example.test", with_2fa=True)
    user.phone = "+1 555 123 4567"
    user.preferences = {"home_city": "Oslo"}
    start_session(db, user, now=now, lifetime=timedelta(hours=1))
    db.add_all(
        [
            OAuthIdentity(user_id=user.id, provider="github", subject="42", email=user.email),
            RecoveryCode(user_id=user.id, code_hash="x"),
            PasswordResetToken(user_id=user.id, token_hash="y", expires_at=now),
            OrganizerApplication(user_id=user.id, organization_name="Mine", details="d"),
        ]
    )
    tier = make_tier(capacity=1)
    booking = Booking(
        reference="DELTEST1",
        user_id=user.id,
        event_id=tier.event_id,
        status=BookingStatus.CONFIRMED,
        quantity=1,
    )
    db.add(booking)
    db.flush()
    unit = db.scalar(select(Unit).where(Unit.tier_id == tier.id))
    db.add(
        Ticket(
            booking_id=booking.id,
            unit_id=unit.id,
            tier_id=tier.id,
            secret="s3cr3t",
            holder_name="Leaving Person",
        )
    )
    db.flush()

    deletion.delete_account(db, user, password=DEFAULT_PASSWORD, session_started_at=None, now=now)

    assert user.name == "Deleted user" and user.email == f"deleted-{user.id}@invalid"
    assert (user.phone, user.password_hash, user.totp_secret, user.preferences) == (
        None,
        None,
        None,
        {},
    )
    assert user.deleted_at == now
    for model in (
        OAuthIdentity,
        RecoveryCode,
        PasswordResetToken,
        UserSession,
        OrganizerApplication,
    ):
        assert db.scalar(select(func.count()).select_from(model)) == 0, model
    db.refresh(booking)
    assert booking.user_id == user.id and booking.status == BookingStatus.CONFIRMED
    assert db.scalar(select(Ticket.holder_name)) is None
    assert db.scalar(select(AuditEntry.action).order_by(AuditEntry.id.desc()).limit(1)) == (
        "account.deleted"
    )


def test_deleting_needs_the_password(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user(name="Still here")
    with pytest.raises(AccountError) as caught:
        deletion.delete_account(db, user, password="nope", session_started_at=now, now=now)
    assert caught.value.field == "password"
    assert user.deleted_at is None and user.name == "Still here"


def test_a_passwordless_account_deletes_only_soon_after_login(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user()
    user.password_hash = None
    with pytest.raises(AccountError, match="log in again"):
        deletion.delete_account(
            db, user, password="", now=now, session_started_at=now - timedelta(minutes=11)
        )
    assert user.deleted_at is None
    deletion.delete_account(
        db, user, password="", now=now, session_started_at=now - timedelta(minutes=9)
    )
    assert user.deleted_at == now


def test_admins_and_organizers_with_upcoming_events_cannot_delete(
    db, now, make_user, make_event
) -> None:  # noqa: ANN001
    admin = make_user(role=Role.ADMIN)
    with pytest.raises(AccountError, match="Admins"):
        deletion.delete_account(
            db, admin, password=DEFAULT_PASSWORD, session_started_at=None, now=now
        )
    organizer = make_user(role=Role.ORGANIZER)
    make_event(organizer=organizer, status=EventStatus.PUBLISHED)
    with pytest.raises(AccountError, match="upcoming events"):
        deletion.delete_account(
            db, organizer, password=DEFAULT_PASSWORD, session_started_at=None, now=now
        )
    assert admin.deleted_at is None and organizer.deleted_at is None
