"""What an admin does to any event: find it in every status, unpublish it, feature it on the
home page or stop, and cancel it (its bookings are cancelled and paid ones refunded, as when
its organizer cancels). Each change is audited with its before and after."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from app.domain.accounts.models import User
from app.domain.audit import record
from app.domain.base import NotFound
from app.domain.events.errors import EventError
from app.domain.events.lifecycle import cancel_event, lock_event, require_status
from app.domain.events.models import Event, EventStatus
from app.domain.events.moderation import clean_reason, tell_organizer, unpublish_event
from app.domain.ticketing.cancellation import CancelledSales

PAGE_SIZE = 50


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def browse_events(
    session: Session, *, status: EventStatus | None = None, query: str = "", page: int = 1
) -> tuple[list[Event], bool]:
    """Events in any status whose title or organizer's email contains `query`, the latest
    starting first; and whether more follow."""
    statement = (
        select(Event)
        .join(User, User.id == Event.organizer_id)
        .options(joinedload(Event.organizer))
        .order_by(Event.starts_at.desc(), Event.id.desc())
    )
    if status is not None:
        statement = statement.where(Event.status == status)
    if query.strip():
        pattern = _like_pattern(query.strip())
        statement = statement.where(
            or_(
                func.lower(Event.title).like(pattern, escape="\\"),
                func.lower(User.email).like(pattern, escape="\\"),
            )
        )
    offset = (max(page, 1) - 1) * PAGE_SIZE
    rows = list(session.scalars(statement.offset(offset).limit(PAGE_SIZE + 1)))
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def get_event(session: Session, event_id: int) -> Event:
    """Any event, with its organizer; NotFound if there is none."""
    event = session.get(Event, event_id, options=[joinedload(Event.organizer)])
    if event is None:
        raise NotFound("We could not find that event.")
    return event


def unpublish(session: Session, event_id: int, *, admin: User, reason: str, now: datetime) -> Event:
    """Take a published event off the site with a reason its organizer reads (as for a
    report: see moderation.unpublish_event)."""
    return unpublish_event(
        session, get_event(session, event_id), admin=admin, reason=reason, now=now
    )


def feature(session: Session, event_id: int, *, admin: User, now: datetime) -> Event:
    """Show the event in the home page's featured list: only a public, upcoming event."""
    event = lock_event(session, get_event(session, event_id))
    require_status(event, {EventStatus.PUBLISHED}, "featured")
    if event.hidden_at is not None:
        raise EventError("This event is hidden while its organizer is suspended.")
    if event.ends_at <= now:
        raise EventError("This event is over: it can no longer be featured.")
    if event.is_featured:
        raise EventError("This event is already featured.")
    before = {"featured_at": event.featured_at, "featured_by_id": event.featured_by_id}
    event.featured_at = now
    event.featured_by_id = admin.id
    session.flush()
    record(
        session,
        "event.featured",
        actor_id=admin.id,
        target=event,
        now=now,
        before=before,
        after={"featured_at": now, "featured_by_id": admin.id},
    )
    return event


def unfeature(session: Session, event_id: int, *, admin: User, now: datetime) -> Event:
    """Take the event out of the featured list."""
    event = lock_event(session, get_event(session, event_id))
    if not event.is_featured:
        raise EventError("This event is not featured.")
    before = {"featured_at": event.featured_at, "featured_by_id": event.featured_by_id}
    event.featured_at = None
    event.featured_by_id = None
    session.flush()
    record(
        session,
        "event.unfeatured",
        actor_id=admin.id,
        target=event,
        now=now,
        before=before,
        after={"featured_at": None, "featured_by_id": None},
    )
    return event


def cancel(
    session: Session, event_id: int, *, admin: User, reason: str, now: datetime
) -> CancelledSales:
    """Cancel a published event as its organizer would (bookings cancelled, paid ones
    refunded by the worker, holders told), with a reason the organizer reads.

    The reason stays between the admin and the organizer: holders get the cancellation
    without a note, since the public page would show it as the organizer's.
    """
    reason = clean_reason(reason)
    event = get_event(session, event_id)
    sales = cancel_event(session, event, actor=admin, now=now)
    decision = record(
        session,
        "event.cancelled_by_admin",
        actor_id=admin.id,
        target=event,
        now=now,
        reason=reason,
        bookings=sales.bookings,
    )
    tell_organizer(
        session,
        event,
        "event_cancelled_by_admin",
        decision,
        what="cancelled",
        now=now,
        reason=reason,
    )
    return sales
