"""Who may see an event page, and who may see its join link."""

from __future__ import annotations

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session, defer, joinedload

from app.domain.accounts.models import Role, User
from app.domain.base import NotFound
from app.domain.events.models import Event, EventStatus
from app.domain.ticketing.models import Booking, BookingStatus

# Once published, an event keeps its page (with a banner) when it is cancelled or over.
PUBLIC_STATUSES = frozenset({EventStatus.PUBLISHED, EventStatus.CANCELLED, EventStatus.COMPLETED})

# Everything the event page shows, in one query (the search vector is for search only).
_EVENT_PAGE = (
    select(Event)
    .where(Event.id == bindparam("event_id"))
    .options(
        joinedload(Event.organizer),
        joinedload(Event.category),
        joinedload(Event.speakers),
        defer(Event.search_vector),
    )
)

_HOLDS_TICKET = select(
    exists().where(
        Booking.user_id == bindparam("user_id"),
        Booking.event_id == bindparam("event_id"),
        Booking.status == BookingStatus.CONFIRMED,
    )
)


def visible_event(session: Session, event_id: int, viewer: User | None) -> Event:
    """The event if `viewer` may see it: public ones for all, the rest for their organizer
    and admins. Anything else is NotFound (a draft's existence is not revealed)."""
    return visible_to(load_event_page(session, event_id), viewer)


def load_event_page(session: Session, event_id: int) -> Event | None:
    """The event with everything its page shows (organizer, category, speakers) loaded."""
    return session.scalars(_EVENT_PAGE, {"event_id": event_id}).unique().one_or_none()


def visible_to(event: Event | None, viewer: User | None) -> Event:
    """`event` if `viewer` may see it (see `visible_event`), else NotFound."""
    if event is None:
        raise NotFound("We could not find that event.")
    if event.status in PUBLIC_STATUSES and event.hidden_at is None:
        return event
    if viewer is not None and (viewer.id == event.organizer_id or viewer.role == Role.ADMIN):
        return event
    raise NotFound("We could not find that event.")


def holds_ticket(session: Session, user_id: int | None, event_id: int) -> bool:
    """True when the user has a confirmed booking for the event."""
    if user_id is None:
        return False
    return bool(session.scalar(_HOLDS_TICKET, {"user_id": user_id, "event_id": event_id}))
