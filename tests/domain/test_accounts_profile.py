"""Changes a user makes to their own account, and deleting it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.domain.accounts import deletion, password_reset, profile
from app.domain.accounts.errors import AccountError, InvalidToken, ReauthRequired
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


def test_a_provider_only_account_sets_a_first_password_once_it_proved_who_it_is(
    db, now, make_user
) -> None:  # noqa: ANN001
    user = make_user()
    user.password_hash = None
    user.authenticated_at = now - timedelta(minutes=11)
    with pytest.raises(ReauthRequired):
        profile.change_password(
            db, user, current_password="", new_password=NEW, keep_session_token=None, now=now
        )
    assert user.password_hash is None
    user.authenticated_at = now - timedelta(minutes=1)
    profile.change_password(
        db, user, current_password="", new_password=NEW, keep_session_token=None, now=now
    )
    assert verify_password(user.password_hash, NEW)


def test_no_first_password_on_an_unproven_address(db, now, make_user) -> None:  # noqa: ANN001
    """It would outlive the owner's proof: they reclaim the address, the password stays."""
    user = make_user(verified=False)
    user.password_hash = None
    user.authenticated_at = now
    with pytest.raises(AccountError, match="Confirm your email address"):
        profile.change_password(
            db, user, current_password="", new_password=NEW, keep_session_token=None, now=now
        )
    assert user.password_hash is None


def test_email_change_happens_only_through_the_link(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user(email="old@example.test")
    change = profile.request_email_change(
        db,
        user,
        new_email="New@Example.test",
        password=DEFAULT_PASSWORD,
        secret_key=SECRET,
        now=now,
    )
    assert change.new_email == "New@example.test" and change.taken_by is None
    assert user.email == "old@example.test"
    changed, old = profile.confirm_email_change(db, SECRET, change.token, max_age=3600, now=now)
    assert (changed.email, old) == ("New@example.test", "old@example.test")
    assert changed.email_verified_at == now
    with pytest.raises(InvalidToken):  # the link names the old address: now stale
        profile.confirm_email_change(db, SECRET, change.token, max_age=3600, now=now)


def test_email_change_ends_other_sessions_and_reset_links(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user(email="moving@example.test")
    here = start_session(db, user, now=now, lifetime=timedelta(hours=1))
    elsewhere = start_session(db, user, now=now, lifetime=timedelta(hours=1))
    _, reset_token = password_reset.request_reset(db, user.email, now=now, ttl=timedelta(hours=1))
    change = profile.request_email_change(
        db,
        user,
        new_email="moved@example.test",
        password=DEFAULT_PASSWORD,
        secret_key=SECRET,
        now=now,
    )
    profile.confirm_email_change(
        db, SECRET, change.token, max_age=3600, now=now, keep_session_token=here
    )
    assert load_session_user(db, here, now=now) is user
    assert load_session_user(db, elsewhere, now=now) is None
    with pytest.raises(InvalidToken, match="already been used"):  # sent to the old address
        password_reset.check_reset_token(db, reset_token, now=now)


def test_an_email_change_to_a_taken_address_only_names_its_owner(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user(email="me@example.test")
    other = make_user(email="other@example.test")
    change = profile.request_email_change(
        db,
        user,
        new_email="OTHER@example.test",
        password=DEFAULT_PASSWORD,
        secret_key=SECRET,
        now=now,
    )
    assert change.taken_by is other and change.token is None
    assert user.email == "me@example.test"


def test_email_change_refusals_change_nothing(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user(email="me@example.test")
    cases = [
        ({"new_email": "x@example.test", "password": "wrong"}, "password"),
        ({"new_email": "nonsense", "password": DEFAULT_PASSWORD}, "email"),
        ({"new_email": "ME@example.test", "password": DEFAULT_PASSWORD}, "email"),
    ]
    for kwargs, field in cases:
        with pytest.raises(AccountError) as caught:
            profile.request_email_change(db, user, secret_key=SECRET, now=now, **kwargs)
        assert caught.value.field == field
    assert user.email == "me@example.test"


def test_a_provider_only_account_changes_its_email_after_a_recent_proof(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user(email="social@example.test")
    user.password_hash = None
    user.authenticated_at = now - timedelta(minutes=30)
    with pytest.raises(ReauthRequired):
        profile.request_email_change(
            db, user, new_email="n@example.test", password="", secret_key=SECRET, now=now
        )
    user.authenticated_at = now
    assert profile.request_email_change(
        db, user, new_email="n@example.test", password="", secret_key=SECRET, now=now
    ).token


def test_email_change_link_fails_if_the_address_was_taken_meanwhile(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user(email="me2@example.test")
    change = profile.request_email_change(
        db,
        user,
        new_email="race@example.test",
        password=DEFAULT_PASSWORD,
        secret_key=SECRET,
        now=now,
    )
    make_user(email="race@example.test")
    with pytest.raises(AccountError, match="already exists"):
        profile.confirm_email_change(db, SECRET, change.token, max_age=3600, now=now)
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

    deletion.delete_account(db, user, password=DEFAULT_PASSWORD, now=now)

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
        deletion.delete_account(db, user, password="nope", now=now)
    assert caught.value.field == "password"
    assert user.deleted_at is None and user.name == "Still here"


def test_a_passwordless_account_deletes_only_after_a_recent_proof(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user()
    user.password_hash = None
    user.authenticated_at = now - timedelta(minutes=11)
    with pytest.raises(ReauthRequired, match="confirm it is you"):
        deletion.delete_account(db, user, password="", now=now)
    assert user.deleted_at is None
    user.authenticated_at = now - timedelta(minutes=9)
    deletion.delete_account(db, user, password="", now=now)
    assert user.deleted_at == now


def test_admins_and_organizers_with_upcoming_events_cannot_delete(
    db, now, make_user, make_event
) -> None:  # noqa: ANN001
    admin = make_user(role=Role.ADMIN)
    with pytest.raises(AccountError, match="Admins"):
        deletion.delete_account(db, admin, password=DEFAULT_PASSWORD, now=now)
    organizer = make_user(role=Role.ORGANIZER)
    make_event(organizer=organizer, status=EventStatus.PUBLISHED)
    with pytest.raises(AccountError, match="upcoming events"):
        deletion.delete_account(db, organizer, password=DEFAULT_PASSWORD, now=now)
    assert admin.deleted_at is None and organizer.deleted_at is None
