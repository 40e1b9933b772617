"""Door staff: invitations by email, accepting them as the right account only, grants, removal."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.domain import invitations
from app.domain.accounts.errors import AccountError
from app.domain.accounts.models import Role
from app.domain.accounts.sessions import load_session_user, start_session
from app.domain.audit import AuditEntry
from app.domain.base import NotFound
from app.domain.checkin import staff
from app.domain.checkin.access import may_check_in
from app.domain.checkin.models import StaffGrant, StaffInvitation
from app.domain.events.models import EventStatus
from tests.factories.accounts import link_in

BASE = "https://eventhall.example"


def _link(token: str) -> str:
    return f"{BASE}/staff/invitations/{token}"


def _invite(db, organizer, email, event_id, now):  # noqa: ANN001, ANN202
    return staff.invite(db, organizer, email, event_id, now, accept_link=_link)


def _token_in(mail: dict) -> str:
    return link_in(mail["text"], "/staff/invitations/").rsplit("/", 1)[1]


def _actions(db) -> list[str]:  # noqa: ANN001
    return list(db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def _grants(db) -> int:  # noqa: ANN001
    return db.scalar(select(func.count()).select_from(StaffGrant))


def test_an_invitation_keeps_only_the_hash_and_mails_a_working_link_once(
    db, make_user, make_event, notification_mail, now
):
    organizer = make_user(role=Role.ORGANIZER, name="Olivia Organizer")
    event = make_event(organizer=organizer, title="Harbour jazz night")
    staffer = make_user(email="sam@example.test")

    invited = _invite(db, organizer, "  Sam@EXAMPLE.test ", event.id, now)

    invitation = invited.invitation
    assert invitation.email == "Sam@example.test"  # normalized as at registration
    assert invitation.token_hash == hashlib.sha256(invited.token.encode()).hexdigest()
    assert invited.token not in {invitation.token_hash, invitation.email}
    assert invitation.expires_at == now + invitations.INVITATION_TTL
    mails = notification_mail(to="sam@example.test")
    assert len(mails) == 1
    assert "Harbour jazz night" in mails[0]["subject"]
    assert "Olivia Organizer" in mails[0]["text"]
    assert _token_in(mails[0]) == invited.token
    assert _actions(db) == ["staff.invited"]

    grant = staff.accept(db, _token_in(mails[0]), staffer, now)

    assert (grant.user_id, grant.event_id, grant.organizer_id) == (
        staffer.id,
        event.id,
        organizer.id,
    )
    assert invitation.accepted_at == now and invitation.accepted_by_id == staffer.id
    assert may_check_in(db, staffer, event)
    assert _actions(db) == ["staff.invited", "staff.accepted"]


def test_inviting_again_replaces_the_pending_invitation_of_the_same_scope(
    db, make_user, make_event, notification_mail, now
):
    organizer = make_user(role=Role.ORGANIZER)
    event = make_event(organizer=organizer)
    first = _invite(db, organizer, "sam@example.test", event.id, now)
    other_scope = _invite(db, organizer, "sam@example.test", None, now)

    second = _invite(db, organizer, "SAM@example.test", event.id, now + timedelta(minutes=5))

    assert first.invitation.revoked_at == now + timedelta(minutes=5)
    assert other_scope.invitation.revoked_at is None
    assert second.invitation.revoked_at is None
    # Three queued; the replaced invitation's mail is skipped if it has not gone yet.
    assert len(notification_mail(to="sam@example.test")) == 2
    staffer = make_user(email="sam@example.test")
    with pytest.raises(invitations.InvitationRevoked):
        staff.accept(db, first.token, staffer, now)
    assert staff.accept(db, second.token, staffer, now).event_id == event.id


def test_the_wrong_account_is_refused_and_nothing_changes(db, make_user, make_event, now):
    organizer = make_user(role=Role.ORGANIZER)
    event = make_event(organizer=organizer)
    invited = _invite(db, organizer, "sam@example.test", event.id, now)
    db.commit()
    actions = _actions(db)

    with pytest.raises(invitations.InvitationForAnotherAccount) as refused:
        staff.accept(db, invited.token, make_user(email="mallory@example.test"), now)

    assert "s***@example.test" in refused.value.message
    assert refused.value.invited_hint == "s***@example.test"
    assert _grants(db) == 0
    assert invited.invitation.accepted_at is None
    assert _actions(db) == actions
    # The right account, whatever the case of its address, still may.
    assert staff.accept(db, invited.token, make_user(email="SAM@example.test"), now)


def test_an_unproven_address_cannot_accept(db, make_user, make_event, now):
    organizer = make_user(role=Role.ORGANIZER)
    invited = _invite(db, organizer, "sam@example.test", make_event(organizer=organizer).id, now)
    with pytest.raises(invitations.InvitationNeedsVerifiedEmail):
        staff.accept(db, invited.token, make_user(email="sam@example.test", verified=False), now)
    assert _grants(db) == 0


def test_expired_revoked_replayed_and_unknown_tokens_are_refused(db, make_user, make_event, now):
    organizer = make_user(role=Role.ORGANIZER)
    event = make_event(organizer=organizer)
    staffer = make_user(email="sam@example.test")
    expiring = _invite(db, organizer, "sam@example.test", event.id, now)
    with pytest.raises(invitations.InvitationExpired):
        staff.accept(db, expiring.token, staffer, now + invitations.INVITATION_TTL)

    revoked = _invite(db, organizer, "sam@example.test", None, now)
    staff.revoke_invitation(db, organizer, revoked.invitation.id, now)
    with pytest.raises(invitations.InvitationRevoked):
        staff.accept(db, revoked.token, staffer, now)
    assert _grants(db) == 0

    staff.accept(db, expiring.token, staffer, now)
    with pytest.raises(invitations.InvitationUsed):
        staff.accept(db, expiring.token, staffer, now)
    with pytest.raises(invitations.InvitationUsed):
        staff.revoke_invitation(db, organizer, expiring.invitation.id, now)
    with pytest.raises(NotFound):
        staff.accept(db, "not-a-token", staffer, now)
    assert _grants(db) == 1


def test_an_organizer_names_only_their_own_open_events(
    db, make_user, make_event, notification_mail, now
):
    organizer = make_user(role=Role.ORGANIZER)
    foreign = make_event(organizer=make_user(role=Role.ORGANIZER))
    with pytest.raises(NotFound):
        _invite(db, organizer, "sam@example.test", foreign.id, now)
    with pytest.raises(NotFound):
        _invite(db, organizer, "sam@example.test", 10**9, now)
    cancelled = make_event(organizer=organizer, status=EventStatus.CANCELLED)
    with pytest.raises(staff.StaffError) as closed:
        _invite(db, organizer, "sam@example.test", cancelled.id, now)
    assert closed.value.code == "event_closed"
    with pytest.raises(AccountError) as bad:
        _invite(db, organizer, "not an address", None, now)
    assert bad.value.field == "email"
    with pytest.raises(staff.StaffError) as own:
        _invite(db, organizer, organizer.email.upper(), None, now)
    assert own.value.code == "own_address"
    assert db.scalar(select(func.count()).select_from(StaffInvitation)) == 0
    assert notification_mail() == []


def test_someone_already_staff_for_that_scope_is_not_invited_again(db, make_user, make_event, now):
    organizer = make_user(role=Role.ORGANIZER)
    event = make_event(organizer=organizer)
    staffer = make_user(email="sam@example.test")
    staff.accept(db, _invite(db, organizer, staffer.email, event.id, now).token, staffer, now)
    with pytest.raises(staff.StaffError) as again:
        _invite(db, organizer, staffer.email, event.id, now)
    assert again.value.code == "already_staff"
    # All events is another scope.
    assert _invite(db, organizer, staffer.email, None, now).invitation.event_id is None


def test_accepting_when_the_grant_exists_already_is_fine(db, make_user, make_event, now):
    organizer = make_user(role=Role.ORGANIZER)
    staffer = make_user(email="sam@example.test")
    invited = _invite(db, organizer, staffer.email, None, now)
    db.add(StaffGrant(organizer_id=organizer.id, user_id=staffer.id, event_id=None))
    db.flush()
    grant = staff.accept(db, invited.token, staffer, now)
    assert grant.event_id is None and _grants(db) == 1
    assert invited.invitation.accepted_at == now


def test_all_events_covers_the_ones_added_later(db, make_user, make_event, now):
    organizer = make_user(role=Role.ORGANIZER)
    staffer = make_user(email="sam@example.test")
    staff.accept(db, _invite(db, organizer, staffer.email, None, now).token, staffer, now)
    later = make_event(organizer=organizer)
    foreign = make_event()
    assert may_check_in(db, staffer, later)
    assert not may_check_in(db, staffer, foreign)
    assert [e.id for e in staff.door_events(db, staffer, now)] == [later.id]


def test_removing_staff_and_withdrawing_invitations_touch_only_ones_own(
    db, make_user, make_event, now
):
    organizer, other = make_user(role=Role.ORGANIZER), make_user(role=Role.ORGANIZER)
    event = make_event(organizer=organizer)
    staffer = make_user(email="sam@example.test")
    grant = staff.accept(
        db, _invite(db, organizer, staffer.email, event.id, now).token, staffer, now
    )
    pending = _invite(db, organizer, "kim@example.test", None, now)

    with pytest.raises(NotFound):
        staff.remove_staff(db, other, grant.id, now)
    with pytest.raises(NotFound):
        staff.revoke_invitation(db, other, pending.invitation.id, now)
    assert _grants(db) == 1 and pending.invitation.revoked_at is None

    listed = staff.staff_of(db, organizer, now)
    assert [g.id for g in listed.grants] == [grant.id]
    assert [i.id for i in listed.invitations] == [pending.invitation.id]
    assert staff.staff_of(db, other, now) == staff.StaffList([], [])

    removed = staff.remove_staff(db, organizer, grant.id, now)
    staff.revoke_invitation(db, organizer, pending.invitation.id, now)

    assert removed.user.name == staffer.name
    assert _grants(db) == 0
    assert not may_check_in(db, staffer, event)
    assert staff.staff_of(db, organizer, now) == staff.StaffList([], [])
    assert _actions(db)[-2:] == ["staff.removed", "staff.invitation_revoked"]
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "staff.removed")).one()
    assert (entry.actor_id, entry.target_type, entry.target_id) == (
        organizer.id,
        "staff_grants",
        grant.id,
    )


def test_expired_invitations_leave_the_pending_list(db, make_user, now):
    organizer = make_user(role=Role.ORGANIZER)
    _invite(db, organizer, "sam@example.test", None, now)
    assert len(staff.staff_of(db, organizer, now).invitations) == 1
    assert staff.staff_of(db, organizer, now + invitations.INVITATION_TTL).invitations == []


def test_an_organizer_sends_a_bounded_number_of_invitations_a_day(
    db, make_user, notification_mail, now, monkeypatch
):
    monkeypatch.setattr(invitations, "INVITATIONS_PER_DAY", 3)
    organizer = make_user(role=Role.ORGANIZER)
    for n in range(3):
        _invite(db, organizer, f"person{n}@example.test", None, now)
    with pytest.raises(invitations.TooManyInvitations):
        _invite(db, organizer, "person9@example.test", None, now)
    assert len(notification_mail()) == 3
    # Another organizer has their own allowance, and a day later the first one again.
    _invite(db, make_user(role=Role.ORGANIZER), "person9@example.test", None, now)
    _invite(db, organizer, "person9@example.test", None, now + invitations.INVITATIONS_WINDOW)


def test_the_door_list_has_staffed_and_own_events_not_long_over(db, make_user, make_event, now):
    organizer = make_user(role=Role.ORGANIZER)
    own = make_event(organizer=organizer)
    make_event(organizer=organizer, status=EventStatus.DRAFT)
    over = make_event(
        organizer=organizer,
        status=EventStatus.COMPLETED,
        starts_at=now - timedelta(days=3),
        ends_at=now - timedelta(days=2),
    )
    elsewhere = make_event()
    db.add(
        StaffGrant(organizer_id=elsewhere.organizer_id, user_id=organizer.id, event_id=elsewhere.id)
    )
    db.flush()
    assert {e.id for e in staff.door_events(db, organizer, now)} == {own.id, elsewhere.id}
    assert over.id not in {e.id for e in staff.door_events(db, organizer, now)}
    assert staff.door_events(db, make_user(role=Role.ADMIN), now) == []


def test_the_signed_in_user_comes_with_whether_they_are_staff(db, make_user, now):
    """The navigation's "Check-in" link asks no query of its own: the session's user loader
    reads it along."""
    organizer, staffer = make_user(role=Role.ORGANIZER), make_user()
    token = start_session(db, staffer, now=now, lifetime=timedelta(hours=1))
    assert load_session_user(db, token, now=now).has_staff_grant is False
    db.add(StaffGrant(organizer_id=organizer.id, user_id=staffer.id, event_id=None))
    db.flush()
    assert load_session_user(db, token, now=now).has_staff_grant is True
