"""Organizers' tiers: create, edit, delete, and the general-admission units behind capacity.

A general-admission tier of `capacity` has exactly that many unit rows (seat_number NULL).
Raising capacity adds rows (and offers them to the waitlist first); lowering deletes free rows
and never goes below what is sold or held. Tiers of a seated event get their units from the
seat map instead. Every change keeps the event's listing price (`min_price_minor`) current.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.domain import audit
from app.domain.base import Busy
from app.domain.events.models import Event
from app.domain.ticketing.availability import publish_availability
from app.domain.ticketing.errors import BookingError
from app.domain.ticketing.models import BookingLine, TicketTier, TierKind, Unit
from app.domain.ticketing.waitlist import OfferSettings, make_offers

MAX_CAPACITY = 100_000
MAX_PER_ORDER = 100
NAME_MAX = 120
DESCRIPTION_MAX = 2000
MAX_PER_USER = 10_000
MAX_POSITION = 1000
# Prices fit the column (a 4-byte integer) whatever the currency's decimals.
MAX_PRICE_MINOR = 999_999_999
# Guessing is rate limited too (`access_codes`), but a short code falls to a patient guesser.
# Codes set before this minimum keep working until the organizer changes them.
MIN_ACCESS_CODE = 8
MAX_ACCESS_CODE = 64


@dataclass(frozen=True)
class TierData:
    name: str
    kind: TierKind = TierKind.FREE
    description: str = ""
    price_minor: int = 0
    currency: str = "USD"
    capacity: int = 0
    sales_start: datetime | None = None
    sales_end: datetime | None = None
    min_per_order: int = 1
    max_per_order: int = 10
    per_user_limit: int | None = None
    hidden: bool = False
    access_code: str | None = None
    position: int = 0

    @classmethod
    def of(cls, tier: TicketTier) -> TierData:
        """What `tier` says now, as the fields a change starts from."""
        return cls(**{field.name: getattr(tier, field.name) for field in fields(cls)})


@dataclass(frozen=True)
class TierSales:
    sold: int = 0
    held: int = 0
    free: int = 0


_SALES = text(
    "SELECT u.tier_id,"
    " count(*) FILTER (WHERE b.status = 'confirmed') AS sold,"
    " count(*) FILTER (WHERE b.status = 'pending') AS held,"
    " count(*) FILTER (WHERE u.booking_id IS NULL AND NOT u.blocked) AS free"
    " FROM units u LEFT JOIN bookings b ON b.id = u.booking_id"
    " WHERE u.event_id = :event_id AND u.tier_id IS NOT NULL GROUP BY u.tier_id"
)


def event_tiers(session: Session, event: Event) -> list[TicketTier]:
    return list(
        session.scalars(
            select(TicketTier)
            .where(TicketTier.event_id == event.id)
            .order_by(TicketTier.position, TicketTier.id)
        )
    )


def tier_sales(session: Session, event_id: int) -> dict[int, TierSales]:
    """Sold, held and free units per tier of the event (for the organizer's overview)."""
    rows = session.execute(_SALES, {"event_id": event_id})
    return {row.tier_id: TierSales(row.sold, row.held, row.free) for row in rows}


def _invalid(message: str) -> BookingError:
    return BookingError("invalid_tier_settings", message)


def validate(
    session: Session,
    event: Event,
    data: TierData,
    *,
    tier_id: int | None,
    kept_code: str | None = None,
) -> TierData:
    """Check the settings (the form checks them too; services never trust their caller).
    `kept_code`: the tier's access code so far, accepted unchanged even if short."""
    name = data.name.strip()
    if not name or len(name) > NAME_MAX:
        raise _invalid(f"Give the ticket type a name of at most {NAME_MAX} characters.")
    if len(data.description.strip()) > DESCRIPTION_MAX:
        raise _invalid(f"Keep the description to {DESCRIPTION_MAX:,} characters.")
    if not 0 <= data.price_minor <= MAX_PRICE_MINOR:
        raise _invalid("That price is out of range.")
    if data.kind == TierKind.FREE and data.price_minor != 0:
        raise _invalid("A free ticket type has no price.")
    if data.kind != TierKind.FREE and data.price_minor <= 0:
        raise _invalid("A paid or VIP ticket type needs a price above zero.")
    currency = data.currency.strip().upper()
    if len(currency) != 3 or not (currency.isascii() and currency.isalpha()):
        raise _invalid("Use a three-letter currency code, such as USD or EUR.")
    others = session.scalars(
        select(TicketTier.currency).where(TicketTier.event_id == event.id, TicketTier.id != tier_id)
    ).all()
    if any(other != currency for other in others):
        raise _invalid(f"All ticket types of an event use one currency ({others[0]}).")
    if not 0 <= data.capacity <= MAX_CAPACITY:
        raise _invalid(f"Capacity must be between 0 and {MAX_CAPACITY:,}.")
    if data.sales_start and data.sales_end and data.sales_end <= data.sales_start:
        raise _invalid("Sales must end after they start.")
    if not 1 <= data.min_per_order <= data.max_per_order <= MAX_PER_ORDER:
        raise _invalid(f"Per order: at least 1, and the maximum between that and {MAX_PER_ORDER}.")
    if data.per_user_limit is not None and data.per_user_limit < data.min_per_order:
        raise _invalid("The limit per person cannot be below the minimum per order.")
    if data.per_user_limit is not None and data.per_user_limit > MAX_PER_USER:
        raise _invalid(f"The limit per person is at most {MAX_PER_USER:,}.")
    if not 0 <= data.position <= MAX_POSITION:
        raise _invalid(f"The order on the page is a number from 0 to {MAX_POSITION}.")
    code = (data.access_code or "").strip() or None
    if (data.hidden and not code) or (code and not access_code_ok(code, kept_code=kept_code)):
        raise _invalid(
            f"A hidden ticket type needs an access code of {MIN_ACCESS_CODE} to "
            f"{MAX_ACCESS_CODE} characters, hard to guess."
        )
    return replace(data, name=name, currency=currency, access_code=code if data.hidden else None)


def access_code_ok(code: str, *, kept_code: str | None = None) -> bool:
    """A new code of the allowed length, or the tier's code so far unchanged."""
    return MIN_ACCESS_CODE <= len(code) <= MAX_ACCESS_CODE or code == kept_code


def create_tier(
    session: Session,
    *,
    event: Event,
    data: TierData,
    actor_id: int | None,
    now: datetime,
    offers: OfferSettings | None = None,
) -> TicketTier:
    data = validate(session, event, data, tier_id=None)
    tier = TicketTier(event_id=event.id, created_at=now, **_columns(data, capacity=0))
    session.add(tier)
    session.flush()
    if not event.is_seated:
        set_capacity(session, tier, data.capacity, now=now, offers=offers)
    refresh_event_prices(session, event)
    audit.record(session, "tier.created", actor_id=actor_id, target=tier, now=now, name=tier.name)
    return tier


def update_tier(
    session: Session,
    *,
    tier: TicketTier,
    data: TierData,
    actor_id: int | None,
    now: datetime,
    offers: OfferSettings | None = None,
) -> TicketTier:
    event = tier.event
    data = validate(session, event, data, tier_id=tier.id, kept_code=tier.access_code)
    for column, value in _columns(data, capacity=tier.capacity).items():
        setattr(tier, column, value)
    session.flush()
    if not event.is_seated and data.capacity != tier.capacity:
        set_capacity(session, tier, data.capacity, now=now, offers=offers)
    refresh_event_prices(session, event)
    publish_availability(session, event.id)
    audit.record(session, "tier.updated", actor_id=actor_id, target=tier, now=now)
    return tier


def delete_tier(session: Session, *, tier: TicketTier, actor_id: int | None, now: datetime) -> None:
    """Delete a tier that nobody ever booked (booked tiers stay, for history)."""
    booked = session.scalar(select(BookingLine.id).where(BookingLine.tier_id == tier.id).limit(1))
    if booked:
        raise BookingError("tier_in_use")
    event = tier.event
    audit.record(session, "tier.deleted", actor_id=actor_id, target=tier, now=now, name=tier.name)
    session.execute(
        text("DELETE FROM units WHERE tier_id = :t AND seat_number IS NULL"), {"t": tier.id}
    )
    session.delete(tier)
    session.flush()
    refresh_event_prices(session, event)
    publish_availability(session, event.id)


def taken_units(session: Session, tier_id: int) -> int:
    """General-admission units of the tier that are sold or held."""
    return session.scalar(
        select(func.count())
        .select_from(Unit)
        .where(Unit.tier_id == tier_id, Unit.seat_number.is_(None), Unit.booking_id.is_not(None))
    )


def set_capacity(
    session: Session,
    tier: TicketTier,
    capacity: int,
    *,
    now: datetime,
    offers: OfferSettings | None = None,
) -> None:
    """Make the tier have `capacity` general-admission units."""
    # Capacity changes of one tier are serialized by the tier's row lock.
    session.execute(select(TicketTier.id).where(TicketTier.id == tier.id).with_for_update())
    current = session.scalar(
        select(func.count())
        .select_from(Unit)
        .where(Unit.tier_id == tier.id, Unit.seat_number.is_(None))
    )
    if capacity > current:
        _add_units(session, tier, capacity - current)
        tier.capacity = capacity
        session.flush()
        make_offers(session, tier.id, now=now, settings=offers or OfferSettings())
    elif capacity < current:
        taken = taken_units(session, tier.id)
        if capacity < taken:
            raise BookingError(
                "capacity_too_low", f"Capacity cannot go below the {taken} sold or held."
            )
        _remove_free_units(session, tier, current - capacity)
        tier.capacity = capacity
    session.flush()
    publish_availability(session, tier.event_id)


def _add_units(session: Session, tier: TicketTier, count: int) -> None:
    session.execute(
        text(
            "INSERT INTO units (event_id, tier_id, seat_order, blocked, accessible) "
            "SELECT :event_id, :tier_id, start.n + g, false, false "
            "FROM (SELECT coalesce(max(seat_order), 0) AS n FROM units WHERE tier_id = :tier_id) "
            "AS start, generate_series(1, :count) AS g"
        ),
        {"event_id": tier.event_id, "tier_id": tier.id, "count": count},
    )


def _remove_free_units(session: Session, tier: TicketTier, count: int) -> None:
    """Delete `count` free units, last handed out first; units a buyer is claiming right now,
    or that a past ticket points to, are left alone (and then this is retried later)."""
    deleted = session.execute(
        text(
            "DELETE FROM units WHERE id IN ("
            " SELECT id FROM units u WHERE tier_id = :tier_id AND seat_number IS NULL"
            " AND booking_id IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.unit_id = u.id)"
            " ORDER BY seat_order DESC LIMIT :count FOR UPDATE SKIP LOCKED)"
        ),
        {"tier_id": tier.id, "count": count},
    ).rowcount
    if deleted != count:
        raise Busy("Tickets are being booked right now. Please try again in a moment.")


def refresh_event_prices(session: Session, event: Event) -> None:
    """The event's cheapest public price and currency, for listing filters and sorts."""
    row = session.execute(
        select(TicketTier.price_minor, TicketTier.currency)
        .where(TicketTier.event_id == event.id, TicketTier.hidden.is_(False))
        .order_by(TicketTier.price_minor, TicketTier.id)
        .limit(1)
    ).first()
    event.min_price_minor = row.price_minor if row else None
    if row:
        event.currency = row.currency
    session.flush()


def _columns(data: TierData, *, capacity: int) -> dict[str, object]:
    return {
        "name": data.name,
        "kind": data.kind,
        "description": data.description.strip(),
        "price_minor": data.price_minor,
        "currency": data.currency,
        "capacity": capacity,
        "sales_start": data.sales_start,
        "sales_end": data.sales_end,
        "min_per_order": data.min_per_order,
        "max_per_order": data.max_per_order,
        "per_user_limit": data.per_user_limit,
        "hidden": data.hidden,
        "access_code": data.access_code,
        "position": data.position,
    }
