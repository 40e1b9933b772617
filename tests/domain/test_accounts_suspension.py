"""Admins suspend and reactivate users and reset their second factor (accounts/suspension)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.domain.accounts import suspension
from app.domain.accounts.errors import AccountError, AccountSuspended
from app.domain.accounts.login import authenticate
from app.domain.accounts.models import RecoveryCode, Role, User
from app.domain.accounts.oauth_linking import ExternalProfile, sign_in_external
from app.domain.accounts.sessions import load_session_user, start_session, suspended_session
from app.domain.audit import AuditEntry
from app.domain.base import NotFound
from app.domain.events.models import EventStatus
from app.domain.events.moderation import approve_event
from app.domain.events.search import parse_search_args, search_events
from app.domain.events.sitemap import sitemap_events
from app.domain.events.visibility import visible_event
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.models import BookingStatus, Unit
from tests.factories.accounts import DEFAULT_PASSWORD


def _session_of(db, user, now) -> str:
    return start_session(db, user, now=now, lifetime=timedelta(hours=1))


def _listed(db, now) -> set[int]:
    params, _ = parse_search_args({})
    return {event.id for event in search_events(db, params, now=now).events}


def _free_units(db, tier) -> int:
    return db.scalar(
        select(func.count())
        .select_from(Unit)
        .where(Unit.tier_id == tier.id, Unit.booking_id.is_(None))
    )


def test_suspension_ends_sessions_blocks_login_hides_events_and_releases_holds(
    db, now, make_user, make_event, make_tier
) -> None:
    admin = make_user(role=Role.ADMIN)
    organizer = make_user(role=Role.ORGANIZER)
    event = make_event(organizer=organizer, title="Hidden Gala")
    draft = make_event(organizer=organizer, status=EventStatus.DRAFT)
    other = make_event()
    tier = make_tier(event=other, capacity=3, price_minor=1200)
    booking = hold_units(
        db, user=organizer, event=other, tier=tier, quantity=2, now=now, hold_minutes=10
    )
    token = _session_of(db, organizer, now)
    assert _free_units(db, tier) == 1 and event.id in _listed(db, now)

    suspension.suspend(db, organizer.id, admin=admin, reason="  Fraud   reports ", now=now)

    assert organizer.suspended_at == now and organizer.suspended_by_id == admin.id
    assert organizer.suspended_reason == "Fraud reports"
    assert load_session_user(db, token, now=now) is None
    assert suspended_session(db, token)
    with pytest.raises(AccountSuspended):
        authenticate(db, email=organizer.email, password=DEFAULT_PASSWORD)
    listed = _listed(db, now)
    assert event.id not in listed and other.id in listed
    assert event.id not in {row.id for row in sitemap_events(db, now=now)}
    with pytest.raises(NotFound):
        visible_event(db, event.id, None)
    assert visible_event(db, event.id, admin) is event  # admins still see it
    db.refresh(event)
    db.refresh(draft)
    assert event.status == EventStatus.PUBLISHED and event.hidden_at == now
    assert draft.hidden_at is None
    db.refresh(booking)
    assert booking.status == BookingStatus.CANCELLED and _free_units(db, tier) == 3
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "user.suspended"))
    assert (entry.actor_id, entry.target_id) == (admin.id, organizer.id)
    assert entry.data["reason"] == "Fraud reports"
    assert entry.data["holds_released"] == [booking.id]
    assert entry.data["events_hidden"] == [event.id]


def test_reactivation_shows_events_still_published_and_allows_login(
    db, now, make_user, make_event
) -> None:
    admin = make_user(role=Role.ADMIN)
    organizer = make_user(role=Role.ORGANIZER)
    kept = make_event(organizer=organizer)
    unpublished = make_event(organizer=organizer)
    suspension.suspend(db, organizer.id, admin=admin, reason="Checking", now=now)
    unpublished.status = EventStatus.REJECTED
    db.flush()

    suspension.reactivate(db, organizer.id, admin=admin, now=now + timedelta(hours=1))

    assert not organizer.is_suspended and organizer.suspended_reason is None
    assert authenticate(db, email=organizer.email, password=DEFAULT_PASSWORD) is organizer
    assert kept.id in _listed(db, now)
    db.refresh(unpublished)
    assert unpublished.status == EventStatus.REJECTED and unpublished.hidden_at is None
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "user.reactivated"))
    assert entry.data["before"]["reason"] == "Checking"


def test_admins_and_oneself_are_refused_and_nothing_changes(db, now, make_user) -> None:
    admin = make_user(role=Role.ADMIN)
    other_admin = make_user(role=Role.ADMIN)
    for target, code in ((admin, "own_account"), (other_admin, "admin_account")):
        for act in (
            lambda t: suspension.suspend(db, t.id, admin=admin, reason="x", now=now),
            lambda t: suspension.reset_two_factor(db, t.id, admin=admin, now=now),
        ):
            with pytest.raises(AccountError) as refused:
                act(target)
            assert refused.value.code == code
    assert not admin.is_suspended and not other_admin.is_suspended and other_admin.has_2fa
    assert db.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_bad_reasons_replays_and_unknown_users(db, now, make_user) -> None:
    admin = make_user(role=Role.ADMIN)
    user = make_user()
    for reason in ("", "   ", "x" * (suspension.REASON_MAX + 1)):
        with pytest.raises(AccountError) as refused:
            suspension.suspend(db, user.id, admin=admin, reason=reason, now=now)
        assert refused.value.field == "reason"
    assert not user.is_suspended
    with pytest.raises(NotFound):
        suspension.suspend(db, 10**9, admin=admin, reason="x", now=now)
    with pytest.raises(AccountError, match="not suspended"):
        suspension.reactivate(db, user.id, admin=admin, now=now)
    suspension.suspend(db, user.id, admin=admin, reason="once", now=now)
    with pytest.raises(AccountError, match="already suspended"):
        suspension.suspend(db, user.id, admin=admin, reason="twice", now=now)
    assert user.suspended_reason == "once"


def test_reset_two_factor_lets_the_user_enroll_again(db, now, make_user) -> None:
    admin = make_user(role=Role.ADMIN)
    organizer = make_user(role=Role.ORGANIZER)
    db.add(RecoveryCode(user_id=organizer.id, code_hash="h"))
    token = _session_of(db, organizer, now)

    suspension.reset_two_factor(db, organizer.id, admin=admin, now=now)

    assert not organizer.has_2fa and organizer.totp_secret is None
    assert db.scalar(select(func.count()).select_from(RecoveryCode)) == 0
    assert load_session_user(db, token, now=now) is None
    assert (
        db.scalar(select(AuditEntry.actor_id).where(AuditEntry.action == "2fa.reset_by_admin"))
        == admin.id
    )
    with pytest.raises(AccountError, match="no two-factor"):
        suspension.reset_two_factor(db, organizer.id, admin=admin, now=now)
    assert db.get(User, organizer.id).role == Role.ORGANIZER


def test_sign_in_providers_refuse_a_suspended_account(db, now, make_user) -> None:
    admin = make_user(role=Role.ADMIN)
    user = make_user(email="linked@example.test")
    profile = ExternalProfile(
        provider="oidc", subject="s-1", email=user.email, email_verified=True, name="Linked"
    )
    assert sign_in_external(db, profile, now=now).user is user  # links by the proven address
    suspension.suspend(db, user.id, admin=admin, reason="Abuse", now=now)
    with pytest.raises(AccountSuspended):
        sign_in_external(db, profile, now=now)  # the linked identity
    other = ExternalProfile(
        provider="github", subject="g-1", email=user.email, email_verified=True, name="Linked"
    )
    with pytest.raises(AccountSuspended):
        sign_in_external(db, other, now=now)  # a new provider with the same address


def test_an_event_approved_while_its_organizer_is_suspended_stays_hidden(
    db, now, make_user, make_event
) -> None:
    admin = make_user(role=Role.ADMIN)
    organizer = make_user(role=Role.ORGANIZER)
    submitted = make_event(organizer=organizer, status=EventStatus.SUBMITTED)
    suspension.suspend(db, organizer.id, admin=admin, reason="Checking", now=now)
    approve_event(db, submitted, admin=admin, version=submitted.version, now=now)
    assert submitted.status == EventStatus.PUBLISHED and submitted.id not in _listed(db, now)
    suspension.reactivate(db, organizer.id, admin=admin, now=now)
    assert submitted.id in _listed(db, now)


def test_suspension_takes_them_off_waitlists_before_their_holds_are_offered_on(
    db, now, make_user, make_event, make_tier
) -> None:
    from app.domain.ticketing.models import WaitlistEntry, WaitlistStatus
    from app.domain.ticketing.waitlist import OfferSettings, join_waitlist

    admin = make_user(role=Role.ADMIN)
    suspect, other_buyer, patient = make_user(), make_user(), make_user()
    event = make_event()
    tier = make_tier(event=event, capacity=2, price_minor=1200)
    held = hold_units(
        db, user=suspect, event=event, tier=tier, quantity=1, now=now, hold_minutes=10
    )
    hold_units(db, user=other_buyer, event=event, tier=tier, quantity=1, now=now, hold_minutes=10)
    theirs = join_waitlist(db, user=suspect, tier=tier, quantity=1, now=now)
    later = join_waitlist(db, user=patient, tier=tier, quantity=1, now=now + timedelta(seconds=1))
    db.commit()

    suspension.suspend(db, suspect.id, admin=admin, reason="Bots", now=now, offers=OfferSettings())
    db.commit()

    db.expire_all()
    assert db.get(WaitlistEntry, theirs.id).status == WaitlistStatus.LEFT
    # Their released seat went to the next one waiting, not back to them.
    assert db.get(WaitlistEntry, later.id).status == WaitlistStatus.OFFERED
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "user.suspended"))
    assert entry.data["waitlists_left"] == [theirs.id]
    assert entry.data["holds_released"] == [held.id]
