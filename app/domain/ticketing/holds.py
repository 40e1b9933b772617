"""Holds: pending bookings keep their units until `hold_expires_at`, then the units go back.

Expiry happens in two places, whichever comes first: the worker's sweep
(`jobs.ticketing_tasks.expire_holds`) and lazily in requests that meet an expired hold.
Freed units are offered to the tier's waitlist first, and every release publishes the
event's availability in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.domain.ticketing import waitlist
from app.domain.ticketing.availability import publish_availability
from app.domain.ticketing.models import Booking, BookingStatus, Unit, WaitlistEntry, WaitlistStatus
from app.observability import metrics

SWEEP_BATCH = 500


def is_expired(booking: Booking, now: datetime) -> bool:
    """True for a booking whose hold ran out, whether or not it was released yet."""
    if booking.status == BookingStatus.EXPIRED:
        return True
    return (
        booking.status == BookingStatus.PENDING
        and booking.hold_expires_at is not None
        and booking.hold_expires_at <= now
    )


def hold_remaining(booking: Booking, now: datetime) -> timedelta | None:
    """Time left on a live hold (None when the booking is not a live hold)."""
    if booking.status != BookingStatus.PENDING or booking.hold_expires_at is None:
        return None
    left = booking.hold_expires_at - now
    return left if left > timedelta(0) else None


def release_units(session: Session, booking_ids: list[int]) -> dict[int, set[int]]:
    """Unlink the units of these bookings; returns event id -> tier ids that got units back."""
    rows = session.execute(
        update(Unit)
        .where(Unit.booking_id.in_(booking_ids))
        .values(booking_id=None)
        .returning(Unit.event_id, Unit.tier_id)
    )
    freed: dict[int, set[int]] = defaultdict(set)
    for event_id, tier_id in rows:
        if tier_id is not None:
            freed[event_id].add(tier_id)
    return freed


def after_release(
    session: Session,
    freed: dict[int, set[int]],
    *,
    now: datetime,
    offers: waitlist.OfferSettings,
    changed_events: Iterable[int] = (),
) -> None:
    """Offer freed units to waitlists, then tell live pages the counts changed."""
    for event_id in sorted(set(freed) | set(changed_events)):
        for tier_id in sorted(freed.get(event_id, ())):
            waitlist.make_offers(session, tier_id, now=now, settings=offers)
        publish_availability(session, event_id)


def expire_due_holds(
    session: Session,
    *,
    now: datetime,
    offers: waitlist.OfferSettings,
    event_id: int | None = None,
    limit: int = SWEEP_BATCH,
) -> int:
    """Expire pending bookings whose hold ran out (all events, or one); return how many.

    Bookings another transaction is working on (a confirmation in flight) are skipped, not
    waited for: that transaction decides their fate, and the next sweep sees the result.
    """
    query = (
        select(Booking.id)
        .where(Booking.status == BookingStatus.PENDING, Booking.hold_expires_at <= now)
        .order_by(Booking.hold_expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if event_id is not None:
        query = query.where(Booking.event_id == event_id)
    ids = list(session.scalars(query))
    if not ids:
        return 0
    session.execute(update(Booking).where(Booking.id.in_(ids)).values(status=BookingStatus.EXPIRED))
    session.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.booking_id.in_(ids), WaitlistEntry.status == WaitlistStatus.OFFERED)
        .values(status=WaitlistStatus.EXPIRED)
    )
    after_release(session, release_units(session, ids), now=now, offers=offers)
    metrics.count(session, metrics.HOLD_EXPIRIES, len(ids))
    return len(ids)


def expire_if_due(
    session: Session, booking: Booking, *, now: datetime, offers: waitlist.OfferSettings
) -> bool:
    """The lazy check for one booking someone is looking at: release it if its hold ran out."""
    if booking.status != BookingStatus.PENDING or not is_expired(booking, now):
        return False
    locked = session.scalars(
        select(Booking)
        .where(Booking.id == booking.id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).first()
    if locked is None or not is_expired(locked, now) or locked.status != BookingStatus.PENDING:
        return False
    locked.status = BookingStatus.EXPIRED
    metrics.count(session, metrics.HOLD_EXPIRIES)
    session.execute(
        update(WaitlistEntry)
        .where(
            WaitlistEntry.booking_id == locked.id, WaitlistEntry.status == WaitlistStatus.OFFERED
        )
        .values(status=WaitlistStatus.EXPIRED)
    )
    session.flush()
    after_release(session, release_units(session, [locked.id]), now=now, offers=offers)
    return True
