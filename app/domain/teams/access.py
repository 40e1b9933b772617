"""What each member of an organizer's team may do: the one place that says it.

The owner (the organizer whose events they are) may do everything. A member's role grants a
set of permissions on all of the owner's events:

- manage: run the events as the owner would (edit, tiers, coupons, seats, payments, refunds,
  the door), but not the team itself: only the owner invites, changes and removes members;
- sales: read sales (attendees and their exports, payments and bookings, analytics), change
  nothing;
- checkin: the door, and nothing else (no revenue, no attendees, no editing).

Membership is read on every request that needs it (no cached copy in the session), so a member
removed or moved to another role has the new rights at their next click.
"""

from __future__ import annotations

import enum

from sqlalchemy import exists, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from app.domain.accounts.models import User
from app.domain.base import Forbidden, NotFound
from app.domain.events.models import Event
from app.domain.teams.models import TeamMember, TeamRole


class Permission(enum.StrEnum):
    MANAGE = "manage"
    VIEW_SALES = "view_sales"
    CHECK_IN = "check_in"


ROLE_PERMISSIONS: dict[TeamRole, frozenset[Permission]] = {
    TeamRole.MANAGE: frozenset(Permission),
    TeamRole.SALES: frozenset({Permission.VIEW_SALES}),
    TeamRole.CHECKIN: frozenset({Permission.CHECK_IN}),
}
# Roles whose members see money (revenue, payments, buyers' data): like organizers, they need
# two-factor authentication to reach the back office.
MONEY_ROLES = frozenset(
    role for role, granted in ROLE_PERMISSIONS.items() if granted - {Permission.CHECK_IN}
)


def roles_with(need: Permission) -> frozenset[TeamRole]:
    """The roles that grant `need`."""
    return frozenset(role for role, granted in ROLE_PERMISSIONS.items() if need in granted)


def role_allows(role: TeamRole | None, need: Permission) -> bool:
    """Whether a member with `role` (None: not a member) has `need`."""
    return role is not None and need in ROLE_PERMISSIONS[role]


def member_role(session: Session, owner_id: int, user_id: int) -> TeamRole | None:
    """`user_id`'s role in `owner_id`'s team, or None when they are not in it."""
    return session.scalar(
        select(TeamMember.role).where(
            TeamMember.owner_id == owner_id, TeamMember.user_id == user_id
        )
    )


def member_may(
    user_id: ColumnElement[int] | int, owner_id: ColumnElement[int] | int, need: Permission
) -> ColumnElement[bool]:
    """SQL: whether `user_id` is in `owner_id`'s team with a role that grants `need` (for
    queries that authorize in the statement, such as the door's)."""
    return exists().where(
        TeamMember.owner_id == owner_id,
        TeamMember.user_id == user_id,
        TeamMember.role.in_(roles_with(need)),
    )


def event_for(session: Session, user: User, event_id: int, need: Permission) -> Event:
    """The event `event_id` when `user` owns it, or is in its owner's team with a role that
    grants `need`; for anyone else it is "not found" (never a hint that it exists)."""
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound("We could not find that event.")
    if event.organizer_id == user.id:
        return event
    if not role_allows(member_role(session, event.organizer_id, user.id), need):
        raise NotFound("We could not find that event.")
    return event


def permissions_on(session: Session, user: User, event: Event) -> frozenset[Permission]:
    """What `user` may do on `event` (every permission for its owner), for pages that offer
    only the actions the reader may take."""
    if event.organizer_id == user.id:
        return frozenset(Permission)
    role = member_role(session, event.organizer_id, user.id)
    return ROLE_PERMISSIONS[role] if role is not None else frozenset()


def memberships(session: Session, user_id: int) -> list[TeamMember]:
    """The teams `user_id` is in, with their owners, by owner's name."""
    return list(
        session.scalars(
            select(TeamMember)
            .join(User, User.id == TeamMember.owner_id)
            .where(TeamMember.user_id == user_id, User.deleted_at.is_(None))
            .order_by(User.name, TeamMember.id)
        )
    )


def in_money_team(session: Session, user_id: int) -> bool:
    """Whether `user_id` is in some team with a role that sees money (2FA applies)."""
    return bool(
        session.scalar(
            select(exists().where(TeamMember.user_id == user_id, TeamMember.role.in_(MONEY_ROLES)))
        )
    )


class TwoFactorRequired(Forbidden):
    """The account must have 2FA on to reach the back office (`needs_two_factor`), and has not."""

    code = "two_factor_required"

    def __init__(self) -> None:
        super().__init__(
            "Turn on two-factor authentication on your account to reach your organizer data."
        )


def needs_two_factor(session: Session, user: User) -> bool:
    """Whether `user` must have 2FA on to reach the back office, on its pages and through the
    API alike: organizers and admins, and members of a team whose role sees money; check-in
    only members, like door staff, need none."""
    return user.needs_2fa or in_money_team(session, user.id)


def require_two_factor(session: Session, user: User) -> None:
    """Refuse `user` (TwoFactorRequired) when they must have 2FA on and have not."""
    if not user.has_2fa and needs_two_factor(session, user):
        raise TwoFactorRequired()


def in_a_team(session: Session, user_id: int) -> bool:
    """Whether `user_id` is in some organizer's team, whatever their role."""
    return bool(session.scalar(select(exists().where(TeamMember.user_id == user_id))))
