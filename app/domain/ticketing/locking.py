"""The ticketing locks, and what a lock wait that runs too long turns into.

One user's bookings for one event are serialized by a transaction-scoped advisory lock on
(user, event): every rule that counts what the user already has (the per-user limit, the
hoarding rules, waitlist joins, offers and their claims) counts under it, so parallel requests
of one user cannot all pass a count read before any of them committed. Other users are never
blocked by it. The lock is taken BEFORE counting, in an earlier statement: a READ COMMITTED
statement sees only what was committed when it began. It is released at COMMIT or ROLLBACK.
Waitlist offers of one tier are serialized by a lock of their own (`lock_tier_waitlist`), and
a booking's changes (confirming, cancelling, paying, a coupon, a refund) by its row
(`lock_booking`).

Waits end after the connection's `lock_timeout` (`LOCK_TIMEOUT_MS`) in `Busy`, the polite
"busy, try again", never a hang.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.domain.base import Busy
from app.domain.ticketing.models import Booking

LOCK_NOT_AVAILABLE = "55P03"
# Two writers of seats in different rows (a hand-picked choice across rows, an expiry sweep)
# can wait on each other's tier rows (migration 0007); PostgreSQL then aborts one of them.
DEADLOCK_DETECTED = "40P01"

_USER_EVENT_KEY = "hashtextextended('booking-limit:' || {user_id} || ':' || {event_id}, 0)"
# The user/event lock as an SQL expression over two integer expressions, for statements that
# take it on the way (`on_sale.load_tier_on_sale`).
USER_EVENT_LOCK = "pg_advisory_xact_lock(" + _USER_EVENT_KEY + ")"

_LOCK = text("SELECT " + USER_EVENT_LOCK.format(user_id=":user_id", event_id=":event_id"))
_TRY_LOCK = text(
    "SELECT pg_try_advisory_xact_lock("
    + _USER_EVENT_KEY.format(user_id=":user_id", event_id=":event_id")
    + ")"
)
_WAITLIST_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")


@contextmanager
def busy_on_lock_timeout() -> Iterator[None]:
    """Turn a `lock_timeout` (or a deadlock) into the polite "busy, try again" error."""
    try:
        yield
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) in (LOCK_NOT_AVAILABLE, DEADLOCK_DETECTED):
            raise Busy("Many people are booking right now. Please try again.") from exc
        raise


def lock_user_event(session: Session, user_id: int, event_id: int) -> None:
    """Serialize this user's bookings for this event until the transaction ends."""
    with busy_on_lock_timeout():
        session.connection().execute(_LOCK, {"user_id": user_id, "event_id": event_id})


def try_lock_user_event(session: Session, user_id: int, event_id: int) -> bool:
    """The same lock without waiting: False while another transaction holds it. For work done
    on a user's behalf under other locks (waitlist offers hold the tier's offer lock), which
    must not wait for the user's own requests: those may be waiting for the locks it holds."""
    row = session.connection().execute(_TRY_LOCK, {"user_id": user_id, "event_id": event_id})
    return bool(row.scalar())


def lock_tier_waitlist(session: Session, tier_id: int) -> None:
    """One offerer per tier at a time, so two sweeps never offer out of order."""
    with busy_on_lock_timeout():
        session.execute(_WAITLIST_LOCK, {"key": f"waitlist:{tier_id}"})


def lock_named(session: Session, name: str) -> None:
    """Serialize one named piece of work (a singleton job's request) until the transaction ends."""
    with busy_on_lock_timeout():
        session.execute(_WAITLIST_LOCK, {"key": name})


def lock_booking(session: Session, booking_id: int) -> Booking:
    """Re-read the booking under its row lock (waiting for a transaction working on it)."""
    with busy_on_lock_timeout():
        return session.scalars(
            select(Booking)
            .where(Booking.id == booking_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
