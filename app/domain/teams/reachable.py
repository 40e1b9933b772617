"""The events a user reaches in the back office: their own, and their teams' owners' events,
each with what the user may do on it (`access.ROLE_PERMISSIONS`), a page at a time."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.events.models import Event, EventStatus
from app.domain.teams.access import ROLE_PERMISSIONS, Permission
from app.domain.teams.models import TeamMember


@dataclass(frozen=True)
class ReachableEvent:
    event: Event
    permissions: frozenset[Permission]


def reachable_events(
    session: Session,
    user: User,
    *,
    status: EventStatus | None,
    before_id: int | None,
    limit: int,
) -> tuple[list[ReachableEvent], int | None]:
    """Up to `limit` events `user` owns or reaches through a team, newest first, before the
    event `before_id`; and the id to continue before (None: that was the last page)."""
    member = and_(TeamMember.owner_id == Event.organizer_id, TeamMember.user_id == user.id)
    statement = (
        select(Event, TeamMember.role)
        .outerjoin(TeamMember, member)
        .where(or_(Event.organizer_id == user.id, TeamMember.id.is_not(None)))
    )
    if status is not None:
        statement = statement.where(Event.status == status)
    if before_id is not None:
        statement = statement.where(Event.id < before_id)
    rows = session.execute(statement.order_by(Event.id.desc()).limit(limit + 1)).all()
    page = [
        ReachableEvent(
            event,
            frozenset(Permission) if event.organizer_id == user.id else ROLE_PERMISSIONS[role],
        )
        for event, role in rows[:limit]
    ]
    return page, page[-1].event.id if len(rows) > limit else None
