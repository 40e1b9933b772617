"""The sale gate: nothing is held, offered or confirmed for an event while it is being taken
off sale (cancelled, unpublished), nor afterwards.

Every path that gives units to a booking or confirms one passes the event's gate in shared
mode (a transaction-scoped advisory lock), and taking the event off sale locks the gate
exclusively. So a sale either committed before the cancellation began, and the cancellation
finds and cancels it, or it waits until the cancellation has committed and is refused.

Why it works, and why not simpler:
- The event's status must be read by a statement that starts after the gate was passed: a
  READ COMMITTED statement sees what was committed when it began, so the statement that waited
  at the gate may still see the event published. `enter` reads it again; the claim statements
  of the busy paths re-check it themselves (`ON_SALE` in claims.py), saving a round trip.
- An advisory lock rather than the event's row: every booking insert already takes a KEY SHARE
  lock on the event's row (its foreign key), and key-share lockers never queue behind a waiting
  FOR UPDATE, so a busy sale would starve a cancellation waiting for the row. Waiters for an
  advisory lock are served in order: once a cancellation waits, later sales wait behind it.
- Releasing units offers them to the waitlist (`waitlist.make_offers`) while the releasing
  transaction already holds booking rows that a cancellation wants: waiting at the gate there
  could deadlock, so offers `try_enter` and stand aside while a cancellation is under way.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.domain.ticketing.errors import BookingError
from app.domain.ticketing.locking import busy_on_lock_timeout

_KEY = "hashtextextended('event-sale:' || {event_id}, 0)"
# The shared gate as an SQL expression over an integer expression (void: cast it to text).
SHARED_GATE = "pg_advisory_xact_lock_shared(" + _KEY + ")"
# The re-check after the gate, for a statement with an `:event_id` parameter.
ON_SALE = "EXISTS (SELECT 1 FROM events WHERE id = :event_id AND status = 'published')"

_PASS = text("SELECT " + SHARED_GATE.format(event_id=":event_id"))
_TRY = text("SELECT pg_try_advisory_xact_lock_shared(" + _KEY.format(event_id=":event_id") + ")")
_CLOSE = text("SELECT pg_advisory_xact_lock(" + _KEY.format(event_id=":event_id") + ")")
_IS_ON_SALE = text(
    "SELECT EXISTS (SELECT 1 FROM events WHERE id = :event_id AND status = 'published'"
    " AND ends_at > :now)"
)


def pass_gate(session: Session, event_id: int) -> None:
    """Wait at the event's gate (shared) until the transaction ends; the caller must read the
    event's status in a later statement (`is_on_sale`, or a claim with `ON_SALE`)."""
    with busy_on_lock_timeout():
        session.connection().execute(_PASS, {"event_id": event_id})


def is_on_sale(session: Session, event_id: int, now: datetime) -> bool:
    """The event is published and not over, as committed when this statement starts."""
    return bool(session.scalar(_IS_ON_SALE, {"event_id": event_id, "now": now}))


def enter(session: Session, event_id: int, now: datetime) -> None:
    """Pass the gate and make sure the event is still on sale, else `event_not_on_sale`."""
    pass_gate(session, event_id)
    if not is_on_sale(session, event_id, now):
        raise BookingError("event_not_on_sale")


def try_enter(session: Session, event_id: int, now: datetime) -> bool:
    """`enter` without waiting: False while the event is being taken off sale, or once it is."""
    if not session.scalar(_TRY, {"event_id": event_id}):
        return False
    return is_on_sale(session, event_id, now)


def close(session: Session, event_id: int) -> None:
    """Lock the gate exclusively until the transaction ends: in-flight sales finish first,
    and later ones wait, then find the event's new status."""
    with busy_on_lock_timeout():
        session.connection().execute(_CLOSE, {"event_id": event_id})
