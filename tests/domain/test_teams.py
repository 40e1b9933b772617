"""Organizer teams: the role policy, invitations accepted by the right account only, role
changes and removal (audited, effective at once), and the door for members who have it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.domain import invitations
from app.domain.accounts.models import Role
from app.domain.audit import AuditEntry
from app.domain.base import NotFound
from app.domain.checkin.access import checkin_event, may_check_in, staffed_events
from app.domain.events.models import EventStatus
from app.domain.teams import access, membership
from app.domain.teams.access import Permission
from app.domain.teams.models import TeamInvitation, TeamMember, TeamRole
from tests.factories.accounts import link_in

ALL = set(Permission)


@pytest.mark.parametrize(
    ("role", "granted"),
    [
        (TeamRole.MANAGE, ALL),
        (TeamRole.SALES, {Permission.VIEW_SALES}),
        (TeamRole.CHECKIN, {Permission.CHECK_IN}),
        (None, set()),
    ],
)
def test_each_role_grants_its_permissions_and_no_other(role, granted) -> None:  # noqa: ANN001
    for need in Permission:
        assert access.role_allows(role, need) is (need in granted), (role, need)


def test_money_roles_are_those_beyond_the_door() -> None:
    assert {TeamRole.MANAGE, TeamRole.SALES} == access.MONEY_ROLES
    assert access.roles_with(Permission.CHECK_IN) == {TeamRole.MANAGE, TeamRole.CHECKIN}


@pytest.mark.parametrize(
    ("role", "reachable"),
    [
        (TeamRole.MANAGE, ALL),
        (TeamRole.SALES, {Permission.VIEW_SALES}),
        (TeamRole.CHECKIN, {Permission.CHECK_IN}),
    ],
)
def test_a_member_reaches_the_owners_events_as_the_role_says_and_nobody_elses(
    db, make_user, make_event, make_member, role, reachable
):  # noqa: ANN001
    owner = make_user(role=Role.ORGANIZER)
    event = make_event(organizer=owner)
    foreign = make_event(organizer=make_user(role=Role.ORGANIZER))
    member = make_member(owner, role)
    user = member.user
    for need in Permission:
        if need in reachable:
            assert access.event_for(db, user, event.id, need) is event
        else:
            with pytest.raises(NotFound):
                access.event_for(db, user, event.id, need)
        with pytest.raises(NotFound):
            access.event_for(db, user, foreign.id, need)
    assert access.permissions_on(db, user, event) == reachable
    assert access.permissions_on(db, owner, event) == ALL
    assert access.event_for(db, owner, event.id, Permission.MANAGE) is event
    with pytest.raises(NotFound):
        access.event_for(db, user, 2**31 - 1, Permission.VIEW_SALES)


@pytest.mark.parametrize("role", list(TeamRole))
def test_the_door_opens_for_members_whose_role_includes_it(
    db, make_user, make_event, make_member, role
):  # noqa: ANN001
    owner = make_user(role=Role.ORGANIZER)
    event = make_event(organizer=owner, status=EventStatus.PUBLISHED)
    foreign = make_event(organizer=make_user(role=Role.ORGANIZER), status=EventStatus.PUBLISHED)
    user = make_member(owner, role).user
    opens = role in (TeamRole.MANAGE, TeamRole.CHECKIN)
    assert may_check_in(db, user, event) is opens
    assert may_check_in(db, user, foreign) is False
    assert [e.id for e in staffed_events(db, user)] == ([event.id] if opens else [])
    if opens:
        assert checkin_event(db, user, event.id).id == event.id
    else:
        with pytest.raises(NotFound):
            checkin_event(db, user, event.id)


def _link(token: str) -> str:
    return f"https://eventhall.example/organizer/team/invitations/{token}"


def _actions(db) -> list[str]:  # noqa: ANN001
    return list(db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_an_invitation_mails_a_link_that_the_invited_account_accepts_once(
    db, make_user, make_event, notification_mail, now
):  # noqa: ANN001
    owner = make_user(role=Role.ORGANIZER, name="Olivia Organizer")
    make_event(organizer=owner, title="Harbour jazz night", status=EventStatus.PUBLISHED)
    invitee = make_user(email="sam@example.test")

    invited = membership.invite(
        db, owner, " Sam@EXAMPLE.test ", TeamRole.SALES, now, accept_link=_link
    )
    assert invited.invitation.token_hash != invited.token
    (mail,) = notification_mail(to="sam@example.test")
    assert "Olivia Organizer" in mail["text"] and "see the sales" in mail["text"]
    assert "Harbour jazz night" in mail["text"]
    token = link_in(mail["text"], "/organizer/team/invitations/").rsplit("/", 1)[1]
    assert token == invited.token

    member = membership.accept(db, token, invitee, now)
    assert (member.owner_id, member.user_id, member.role) == (owner.id, invitee.id, "sales")
    with pytest.raises(invitations.InvitationUsed):
        membership.accept(db, token, invitee, now)
    assert _actions(db) == ["team.invited", "team.joined"]


def test_refused_acceptances_change_nothing(db, make_user, now) -> None:  # noqa: ANN001
    owner = make_user(role=Role.ORGANIZER)
    invitee = make_user(email="sam@example.test")
    stranger = make_user(email="eve@example.test")
    token = membership.invite(
        db, owner, invitee.email, TeamRole.MANAGE, now, accept_link=_link
    ).token

    with pytest.raises(invitations.InvitationForAnotherAccount):
        membership.accept(db, token, stranger, now)
    with pytest.raises(NotFound):
        membership.accept(db, token + "x", invitee, now)
    with pytest.raises(invitations.InvitationExpired):
        membership.accept(db, token, invitee, now + invitations.INVITATION_TTL)
    unverified = make_user(email="una@example.test", verified=False)
    token2 = membership.invite(
        db, owner, unverified.email, TeamRole.SALES, now, accept_link=_link
    ).token
    with pytest.raises(invitations.InvitationNeedsVerifiedEmail):
        membership.accept(db, token2, unverified, now)
    assert db.scalar(select(func.count()).select_from(TeamMember)) == 0


def test_inviting_again_replaces_the_link_and_bad_invitations_are_refused(
    db, make_user, make_member, now
):  # noqa: ANN001
    owner = make_user(role=Role.ORGANIZER)
    invitee = make_user(email="sam@example.test")
    first = membership.invite(db, owner, invitee.email, TeamRole.SALES, now, accept_link=_link)
    membership.invite(db, owner, invitee.email, TeamRole.MANAGE, now, accept_link=_link)
    with pytest.raises(invitations.InvitationRevoked):
        membership.accept(db, first.token, invitee, now)

    with pytest.raises(membership.TeamError) as own:
        membership.invite(db, owner, owner.email, TeamRole.SALES, now, accept_link=_link)
    assert own.value.code == "own_address" and own.value.field == "email"
    already = make_member(owner, TeamRole.CHECKIN)
    with pytest.raises(membership.TeamError) as twice:
        membership.invite(db, owner, already.user.email, TeamRole.SALES, now, accept_link=_link)
    assert twice.value.code == "already_member"


def test_only_the_owner_changes_roles_removes_members_and_withdraws_invitations(
    db, make_user, make_member, now
):  # noqa: ANN001
    owner = make_user(role=Role.ORGANIZER)
    other = make_user(role=Role.ORGANIZER)
    member = make_member(owner, TeamRole.CHECKIN)
    invitation = membership.invite(
        db, owner, "new@example.test", TeamRole.SALES, now, accept_link=_link
    ).invitation
    for act in (
        lambda: membership.change_role(db, other, member.id, TeamRole.MANAGE, now),
        lambda: membership.remove_member(db, other, member.id, now),
        lambda: membership.revoke_invitation(db, other, invitation.id, now),
    ):
        with pytest.raises(NotFound):
            act()
    assert member.role == TeamRole.CHECKIN

    membership.change_role(db, owner, member.id, TeamRole.SALES, now)
    assert access.member_role(db, owner.id, member.user_id) == TeamRole.SALES
    membership.revoke_invitation(db, owner, invitation.id, now)
    assert invitation.revoked_at == now
    user = member.user
    membership.remove_member(db, owner, member.id, now)
    assert access.member_role(db, owner.id, user.id) is None
    assert _actions(db) == [
        "team.invited",
        "team.role_changed",
        "team.invitation_revoked",
        "team.removed",
    ]
    changed = db.scalar(select(AuditEntry).where(AuditEntry.action == "team.role_changed"))
    assert changed.data == {
        "user_id": user.id,
        "before": {"role": "checkin"},
        "after": {"role": "sales"},
    }


def test_a_members_list_of_teams_shows_the_owners_recent_and_coming_events(
    db, make_user, make_event, make_member, now
):  # noqa: ANN001
    owner = make_user(role=Role.ORGANIZER)
    coming = make_event(organizer=owner, title="Coming")
    long_over = make_event(
        organizer=owner,
        title="Long over",
        starts_at=now - timedelta(days=90),
        ends_at=now - timedelta(days=90) + timedelta(hours=2),
    )
    user = make_member(owner, TeamRole.CHECKIN).user
    (found,) = membership.memberships_of(db, user, now)
    assert found.permissions == {Permission.CHECK_IN}
    assert [e.id for e in found.events] == [coming.id]
    assert long_over.id not in [e.id for e in found.events]
    assert db.scalar(select(func.count()).select_from(TeamInvitation)) == 0
