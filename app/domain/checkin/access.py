"""Who may check in an event's tickets: admins, the event's organizer, the staff the
organizer granted it to (for that event, or for all of the organizer's events), and the
members of the organizer's team whose role includes the door (`teams.access`)."""

from __future__ import annotations

from sqlalchemy import and_, bindparam, exists, or_, select
from sqlalchemy.orm import Session, load_only
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from app.domain.accounts.models import Role, User
from app.domain.base import NotFound
from app.domain.checkin.models import StaffGrant
from app.domain.events.models import Event, EventStatus
from app.domain.teams.access import Permission, member_may

# Events whose door can be staffed: drafts and events under review have no tickets.
CHECKIN_STATUSES = (EventStatus.PUBLISHED, EventStatus.COMPLETED, EventStatus.CANCELLED)


def _granted(user_id: int | BindParameter[int]) -> ColumnElement[bool]:
    """Whether `user_id` holds a staff grant covering the `Event` of the enclosing query, or
    is in its organizer's team with a role that opens the door."""
    return or_(
        exists().where(
            StaffGrant.user_id == user_id,
            or_(
                StaffGrant.event_id == Event.id,
                and_(StaffGrant.event_id.is_(None), StaffGrant.organizer_id == Event.organizer_id),
            ),
        ),
        member_may(user_id, Event.organizer_id, Permission.CHECK_IN),
    )


def may_check_in(session: Session, user: User, event: Event) -> bool:
    if event.status not in CHECKIN_STATUSES:
        return False
    if user.role == Role.ADMIN or event.organizer_id == user.id:
        return True
    return bool(session.scalar(select(_granted(user.id)).where(Event.id == event.id)))


# The door's columns of the event (the rest loads if asked for); built once, with parameters,
# because every scan at the door authorizes through it.
_DOOR_COLUMNS = (Event.id, Event.title, Event.timezone, Event.status, Event.organizer_id)
_CHECKIN_EVENT = (
    select(Event)
    .options(load_only(*_DOOR_COLUMNS))
    .where(Event.id == bindparam("event_id"), Event.status.in_(CHECKIN_STATUSES))
)
_STAFFED_EVENT = _CHECKIN_EVENT.where(
    or_(Event.organizer_id == bindparam("user_id"), _granted(bindparam("user_id")))
)


def checkin_event(session: Session, user: User, event_id: int) -> Event:
    """The event `event_id` when `user` may check in its tickets (one statement); for anyone
    else it is "not found" (never "forbidden", which would tell a stranger it exists)."""
    query = _CHECKIN_EVENT if user.role == Role.ADMIN else _STAFFED_EVENT
    event = session.scalars(query, {"event_id": event_id, "user_id": user.id}).first()
    if event is None:
        raise NotFound("We could not find that event.")
    return event


def staffed_events(session: Session, user: User) -> list[Event]:
    """The events `user` staffs through grants (not the ones they organize), soonest first."""
    return list(
        session.scalars(
            select(Event)
            .where(Event.status.in_(CHECKIN_STATUSES), _granted(user.id))
            .order_by(Event.starts_at, Event.id)
        )
    )
