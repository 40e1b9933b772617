"""Factories for ticketing tests: `make_tier(...)` (with its general-admission units) and
`make_seated_booking(...)`, and `pay_booking(booking)`."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.events.models import Event
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.models import Booking, TicketTier, TierKind, Unit
from app.domain.ticketing.seatmap import replace_layout
from app.domain.ticketing.tiers import set_capacity

_counter = itertools.count(1)


@pytest.fixture
def make_tier(db: Session, make_event: Callable[..., Event], now: Any) -> Callable[..., TicketTier]:
    """`make_tier(event=None, capacity=10, price_minor=0, **fields)` -> flushed TicketTier.

    A priced tier is PAID unless `kind` says otherwise. General-admission units are created to
    match `capacity` (none for a seated event: the seat map gives those tiers their units).
    """

    def create(*, event: Event | None = None, capacity: int = 10, **fields: Any) -> TicketTier:
        n = next(_counter)
        event = event or make_event()
        price = fields.pop("price_minor", 0)
        values: dict[str, Any] = {
            "name": f"Tier {n}",
            "kind": TierKind.PAID if price else TierKind.FREE,
            "price_minor": price,
            "currency": event.currency,
            "capacity": 0,
            "min_per_order": 1,
            "max_per_order": 10,
            "position": n,
        }
        values.update(fields)
        tier = TicketTier(event_id=event.id, **values)
        db.add(tier)
        db.flush()
        if capacity and not event.is_seated:
            set_capacity(db, tier, capacity, now=now)
        return tier

    return create


@pytest.fixture
def make_seated_booking(
    db: Session,
    make_event: Callable[..., Event],
    make_tier: Callable[..., TicketTier],
    make_user: Callable[..., User],
    now: Any,
) -> Callable[..., Booking]:
    """`make_seated_booking(buyer=None, quantity=2, price_minor=0, **event_fields)` -> the
    buyer's booking of the first `quantity` seats of row B ("Stalls, Row B seat 1", ...) of a
    new seated event with one zone, "Stalls": confirmed with its tickets when free, held when
    priced."""

    def create(
        *, buyer: User | None = None, quantity: int = 2, price_minor: int = 0, **event_fields: Any
    ) -> Booking:
        event = make_event(is_seated=True, **event_fields)
        tier = make_tier(event=event, name="Stalls", price_minor=price_minor, capacity=0)
        replace_layout(
            db,
            event=event,
            text="Section Stalls\nRow A: 1-8\nRow B: 1-8",
            new_seat_tier=tier,
            actor_id=None,
            now=now,
        )
        seat_ids = db.scalars(
            select(Unit.id)
            .where(Unit.event_id == event.id, Unit.row_label == "B")
            .order_by(Unit.seat_order)
            .limit(quantity)
        ).all()
        return hold_units(
            db,
            user=buyer or make_user(),
            event=event,
            tier=None,
            quantity=quantity,
            seat_ids=list(seat_ids),
            now=now,
            hold_minutes=10,
        )

    return create


@pytest.fixture
def pay_booking(db: Session, now: Any) -> Callable[[Booking], Booking]:
    """`pay_booking(booking)` -> the held booking paid in full through the demo provider, as
    its verified webhook confirms it (a payment to refund later), re-read."""
    from app.domain.payments import checkout
    from app.domain.payments.events import apply_event
    from app.integrations.payments.base import EventKind, ProviderEvent

    def pay(booking: Booking) -> Booking:
        payment = checkout.begin_payment(db, booking, provider="demo", accepted=["demo"], now=now)
        ref = f"demo_{payment.id}"
        checkout.record_checkout(db, payment.id, provider_ref=ref, checkout_url="https://x")
        event = ProviderEvent(
            event_id=f"evt_{payment.id}",
            kind=EventKind.SUCCEEDED,
            provider_ref=ref,
            amount_minor=payment.amount_minor,
            currency=payment.currency,
        )
        apply_event(db, "demo", event, now=now)
        db.expire_all()
        paid = db.get(Booking, booking.id)
        assert paid is not None
        return paid

    return pay
