"""Factories for ticketing tests: `make_tier(...)` (with its general-admission units)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.domain.events.models import Event
from app.domain.ticketing.models import TicketTier, TierKind
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
