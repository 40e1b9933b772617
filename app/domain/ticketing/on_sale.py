"""What a hold needs to know about a tier and its event, and a lean way to read it.

`hold_units` works with anything shaped like `SaleTier` / `SaleEvent`: the ORM objects, or
the frozen rows `load_tier_on_sale` reads in one plain statement. The booking endpoint is the
hot path of a ticket rush, and building ORM objects for a read-only check costs it more CPU
than the claim itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.domain.events.models import EventStatus
from app.domain.ticketing.errors import BookingError
from app.domain.ticketing.locking import USER_EVENT_LOCK, busy_on_lock_timeout
from app.domain.ticketing.sale_gate import SHARED_GATE


class SaleEvent(Protocol):
    id: int
    status: str
    ends_at: datetime
    is_seated: bool
    hidden_at: datetime | None


class SaleTier(Protocol):
    id: int
    event_id: int
    name: str
    price_minor: int
    currency: str
    sales_start: datetime | None
    sales_end: datetime | None
    min_per_order: int
    max_per_order: int
    per_user_limit: int | None
    hidden: bool
    access_code: str | None


@dataclass(frozen=True)
class EventOnSale:
    id: int
    status: str
    ends_at: datetime
    is_seated: bool
    hidden_at: datetime | None = None


@dataclass(frozen=True)
class TierOnSale:
    id: int
    event_id: int
    name: str
    price_minor: int
    currency: str
    sales_start: datetime | None
    sales_end: datetime | None
    min_per_order: int
    max_per_order: int
    per_user_limit: int | None
    hidden: bool
    access_code: str | None


# The buyer's user/event lock (void, hence the cast): every hold counts the hoarding rules,
# and most tiers have a per-user limit too.
_BUYER_LOCK = USER_EVENT_LOCK.format(user_id=":buyer_id", event_id="t.event_id") + "::text"
_TIER_ON_SALE = text(
    "SELECT t.id, t.event_id, t.name, t.price_minor, t.currency, t.sales_start, t.sales_end,"  # noqa: S608
    " t.min_per_order, t.max_per_order, t.per_user_limit, t.hidden, t.access_code,"
    " e.status AS event_status, e.ends_at AS event_ends_at,"
    " e.is_seated AS event_is_seated, e.hidden_at AS event_hidden_at,"
    f" {_BUYER_LOCK} AS buyer_lock,"
    f" {SHARED_GATE.format(event_id='t.event_id')}::text AS sale_gate"
    " FROM ticket_tiers t JOIN events e ON e.id = t.event_id WHERE t.id = :tier_id"
)


_EVENT_ON_SALE = text(
    "SELECT id, status, ends_at, is_seated, hidden_at FROM events WHERE id = :event_id"
)


def load_event_on_sale(session: Session, event_id: int) -> EventOnSale | None:
    """What a hold needs to know of an event, in one plain statement (no ORM object)."""
    row = session.connection().execute(_EVENT_ON_SALE, {"event_id": event_id}).first()
    return EventOnSale(*row) if row is not None else None


def load_tier_on_sale(
    session: Session, tier_id: int, *, buyer_id: int
) -> tuple[TierOnSale, EventOnSale] | None:
    """The tier and its event; the same statement passes the event's sale gate (`sale_gate`:
    the claim re-checks the event's status) and takes `buyer_id`'s user/event lock
    (`locking.lock_user_event`), saving round trips."""
    row = (
        session.connection()
        .execute(_TIER_ON_SALE, {"tier_id": tier_id, "buyer_id": buyer_id})
        .mappings()
        .first()
    )
    if row is None:
        return None
    values = dict(row)
    del values["buyer_lock"], values["sale_gate"]
    event = EventOnSale(
        id=values["event_id"],
        status=values.pop("event_status"),
        ends_at=values.pop("event_ends_at"),
        is_seated=values.pop("event_is_seated"),
        hidden_at=values.pop("event_hidden_at"),
    )
    return TierOnSale(**values), event


def check_event_on_sale(event: SaleEvent, now: datetime) -> None:
    hidden = event.hidden_at is not None
    if event.status != EventStatus.PUBLISHED or hidden or event.ends_at <= now:
        raise BookingError("event_not_on_sale")


def check_tier_on_sale(
    tier: SaleTier, event: SaleEvent, *, now: datetime, access_code: str | None
) -> None:
    """The tier belongs to the event, is unlocked if hidden, and is inside its sales window."""
    if tier.event_id != event.id:
        raise BookingError("invalid_tier")
    if tier.hidden and (not access_code or access_code.strip() != tier.access_code):
        raise BookingError("hidden_tier")
    if tier.sales_start and now < tier.sales_start:
        raise BookingError("sales_closed", f"{tier.name}: sales have not opened yet.")
    if tier.sales_end and now >= tier.sales_end:
        raise BookingError("sales_closed", f"{tier.name}: sales have ended.")


def tier_and_event(
    session: Session, tier_id: int, *, event_id: int, buyer_id: int
) -> tuple[TierOnSale, EventOnSale]:
    """`load_tier_on_sale` for a tier named by id as a form sends it: a tier that does not
    exist or belongs to another event is refused with the same message (nothing tells them
    apart), and a lock wait that times out is "busy"."""
    with busy_on_lock_timeout():
        found = load_tier_on_sale(session, tier_id, buyer_id=buyer_id)
    if found is None or found[0].event_id != event_id:
        raise BookingError("invalid_tier")
    return found
