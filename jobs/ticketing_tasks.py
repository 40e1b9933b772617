"""Ticketing sweeps for the worker: plain functions of a Session and the time.

Each is idempotent and re-reads (and re-locks) what it touches, so a retry or a second worker
changes nothing twice; the caller commits. The same work also happens lazily in requests.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.config import load_config
from app.domain.ticketing import holds, waitlist
from app.domain.ticketing.models import Booking, BookingStatus, WaitlistEntry, WaitlistStatus


def offer_settings() -> waitlist.OfferSettings:
    config = load_config()
    return waitlist.OfferSettings(minutes=int(config["WAITLIST_OFFER_MINUTES"]))


def expire_holds(
    session: Session, now: datetime, *, offers: waitlist.OfferSettings | None = None
) -> int:
    """Return every hold that ran out to sale (its units offered to waitlists first)."""
    offers = offers or offer_settings()
    total = 0
    while expired := holds.expire_due_holds(session, now=now, offers=offers):
        total += expired
        if expired < holds.SWEEP_BATCH:
            break
    return total


def advance_waitlists(
    session: Session, now: datetime, *, offers: waitlist.OfferSettings | None = None
) -> int:
    """Expire unclaimed offers (their units go to the next in line at once), then offer any
    other free units to people waiting; return offers expired plus further offers made."""
    offers = offers or offer_settings()
    due_offers = select(WaitlistEntry.booking_id).where(
        WaitlistEntry.status == WaitlistStatus.OFFERED, WaitlistEntry.offer_expires_at <= now
    )
    expired = 0
    for booking in session.scalars(
        select(Booking).where(Booking.id.in_(due_offers), Booking.status == BookingStatus.PENDING)
    ):
        expired += holds.expire_if_due(session, booking, now=now, offers=offers)
    return expired + waitlist.advance_all(session, now=now, settings=offers)


_SOLD_COUNTS = text(
    "WITH counts AS ("
    " SELECT event_id, sum(quantity)::int AS n FROM bookings"
    " WHERE status = 'confirmed' GROUP BY event_id"
    ") UPDATE events e SET sold_count = coalesce(c.n, 0)"
    " FROM events current LEFT JOIN counts c ON c.event_id = current.id"
    " WHERE e.id = current.id AND current.ends_at > :since"
    " AND e.sold_count IS DISTINCT FROM coalesce(c.n, 0)"
)


def refresh_sold_counts(session: Session, now: datetime) -> int:
    """Copy confirmed ticket counts to `events.sold_count` (listing sorts by popularity).

    Done in a sweep rather than per booking: updating the event's row in every booking
    transaction would make all buyers of a hot event queue on that one row lock.
    """
    return session.execute(_SOLD_COUNTS, {"since": now - timedelta(days=1)}).rowcount
