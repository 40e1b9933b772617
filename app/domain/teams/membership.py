"""The owner's team: inviting by email with a role, accepting, changing a member's role,
removing a member, withdrawing an invitation. Only the owner (the organizer whose events they
are) runs these; every change is audited.

Invitations follow the rules of `app.domain.invitations`, as the door staff's do; inviting
the address again replaces the earlier link.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.domain import audit, invitations
from app.domain.accounts.emails import find_user_by_email, normalize_email
from app.domain.accounts.models import User
from app.domain.base import NotFound
from app.domain.events.models import Event
from app.domain.invitations import InvitationError
from app.domain.teams.access import ROLE_PERMISSIONS, Permission, memberships
from app.domain.teams.models import TeamInvitation, TeamMember, TeamRole

# Members see the owner's events that ended within this long, and those to come.
EVENTS_LISTED_AFTER_END = timedelta(days=30)


class TeamError(InvitationError):
    """A rule about the team refused the request; `field` names the form field."""


@dataclass(frozen=True)
class Invited:
    invitation: TeamInvitation
    token: str  # the raw token: it goes into the mail and nowhere else


def invite(
    session: Session,
    owner: User,
    email: str,
    role: TeamRole,
    now: datetime,
    *,
    accept_link: Callable[[str], str],
) -> Invited:
    """Invite `email` into `owner`'s team as `role` and queue the mail with
    `accept_link(token)` in this transaction; an earlier pending invitation of the address
    is withdrawn."""
    email = normalize_email(email)
    if email.lower() == owner.email.lower():
        raise TeamError("This is your own team.", code="own_address", field="email")
    invitations.check_daily_cap(session, TeamInvitation.owner_id, owner.id, now)
    invitee = find_user_by_email(session, email)
    if invitee is not None and _member(session, owner.id, invitee.id) is not None:
        raise TeamError(
            f"{email} is in your team already: change their role in the list instead.",
            code="already_member",
            field="email",
        )
    token, columns = invitations.replace_pending(
        session, TeamInvitation, email, now, TeamInvitation.owner_id == owner.id
    )
    invitation = TeamInvitation(owner_id=owner.id, role=role, invited_by_id=owner.id, **columns)
    session.add(invitation)
    session.flush()
    audit.record(
        session,
        "team.invited",
        actor_id=owner.id,
        target=invitation,
        now=now,
        email=email,
        role=role.value,
    )
    invitations.mail(session, "team_invitation", invitation, accept_link(token), now)
    return Invited(invitation, token)


def _member(session: Session, owner_id: int, user_id: int) -> TeamMember | None:
    return session.scalar(
        select(TeamMember).where(TeamMember.owner_id == owner_id, TeamMember.user_id == user_id)
    )


def find_invitation(session: Session, token: str, *, lock: bool = False) -> TeamInvitation:
    """The invitation a link's token names (NotFound for any other string)."""
    return invitations.find_by_token(session, TeamInvitation, token, lock=lock)


def accept(session: Session, token: str, user: User, now: datetime) -> TeamMember:
    """Put `user` in the team as the invitation says, once; a refusal changes nothing. The
    invitation's row lock makes two simultaneous accepts one membership and one "used"."""
    invitation = find_invitation(session, token, lock=True)
    invitations.check_acceptable(invitation, user, now)
    member = _member(session, invitation.owner_id, user.id)
    if member is None:
        member = TeamMember(
            owner_id=invitation.owner_id,
            user_id=user.id,
            role=invitation.role,
            invited_by_id=invitation.invited_by_id,
            created_at=now,
        )
        session.add(member)
    else:  # joined meanwhile through another invitation: the newest one's role holds
        member.role = invitation.role
    invitation.accepted_at = now
    invitation.accepted_by_id = user.id
    session.flush()
    audit.record(
        session,
        "team.joined",
        actor_id=user.id,
        target=member,
        now=now,
        invitation_id=invitation.id,
        owner_id=invitation.owner_id,
        role=invitation.role.value,
    )
    return member


def _owned_member(session: Session, owner: User, member_id: int) -> TeamMember:
    member = session.get(TeamMember, member_id, with_for_update=True)
    if member is None or member.owner_id != owner.id:
        raise NotFound("We could not find that team member.")
    return member


def change_role(
    session: Session, owner: User, member_id: int, role: TeamRole, now: datetime
) -> TeamMember:
    """Give one of the owner's members another role (anyone else's is NotFound)."""
    member = _owned_member(session, owner, member_id)
    before = member.role
    if before != role:
        member.role = role
        session.flush()
        audit.record(
            session,
            "team.role_changed",
            actor_id=owner.id,
            target=member,
            now=now,
            user_id=member.user_id,
            before={"role": before},
            after={"role": role},
        )
    return member


def remove_member(session: Session, owner: User, member_id: int, now: datetime) -> TeamMember:
    """Take one of the owner's members out of the team: their access ends with their next
    request (anyone else's is NotFound)."""
    member = _owned_member(session, owner, member_id)
    _ = member.user  # loaded while the row exists, for the caller to name them
    audit.record(
        session,
        "team.removed",
        actor_id=owner.id,
        target=member,
        now=now,
        user_id=member.user_id,
        role=member.role.value,
    )
    session.delete(member)
    session.flush()
    return member


def revoke_invitation(
    session: Session, owner: User, invitation_id: int, now: datetime
) -> TeamInvitation:
    """Withdraw a pending invitation of the owner's: its link stops working."""
    invitation = session.get(TeamInvitation, invitation_id, with_for_update=True)
    if invitation is None or invitation.owner_id != owner.id or invitation.accepted_at is not None:
        raise NotFound("We could not find that invitation.")
    if invitation.revoked_at is None:
        invitation.revoked_at = now
        session.flush()
        audit.record(
            session,
            "team.invitation_revoked",
            actor_id=owner.id,
            target=invitation,
            now=now,
            email=invitation.email,
        )
    return invitation


@dataclass(frozen=True)
class Team:
    members: list[TeamMember]
    invitations: list[TeamInvitation]  # pending: neither accepted, revoked nor expired


def team_of(session: Session, owner: User, now: datetime) -> Team:
    """The owner's members, and the invitations still waiting for an answer."""
    members = session.scalars(
        select(TeamMember)
        .where(TeamMember.owner_id == owner.id)
        .options(joinedload(TeamMember.user))
        .order_by(TeamMember.created_at, TeamMember.id)
    )
    invitations = session.scalars(
        select(TeamInvitation)
        .where(
            TeamInvitation.owner_id == owner.id,
            TeamInvitation.accepted_at.is_(None),
            TeamInvitation.revoked_at.is_(None),
            TeamInvitation.expires_at > now,
        )
        .order_by(TeamInvitation.created_at, TeamInvitation.id)
    )
    return Team(list(members), list(invitations))


@dataclass(frozen=True)
class Membership:
    member: TeamMember
    permissions: frozenset[Permission]
    events: list[Event]  # the owner's, not long over, soonest first


def memberships_of(session: Session, user: User, now: datetime) -> list[Membership]:
    """The teams `user` is in, each with what their role allows and the owner's events."""
    found = []
    for member in memberships(session, user.id):
        events = session.scalars(
            select(Event)
            .where(
                Event.organizer_id == member.owner_id,
                Event.ends_at > now - EVENTS_LISTED_AFTER_END,
            )
            .order_by(Event.starts_at, Event.id)
        )
        found.append(Membership(member, ROLE_PERMISSIONS[member.role], list(events)))
    return found
