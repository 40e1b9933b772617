"""Factories for check-in tests: confirmed tickets, their QR codes, staff of an event."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.checkin.models import StaffGrant
from app.domain.events.models import Event
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.models import Booking, Ticket, TicketTier
from app.domain.tickets.signing import TicketCode, check_code, event_key, sign


@pytest.fixture
def make_tickets(
    db: Session, now: datetime, make_user: Callable[..., User], make_tier: Callable[..., TicketTier]
) -> Callable[..., list[Ticket]]:
    """`make_tickets(tier=None, quantity=1, user=None, price_minor=0)` -> the tickets of one
    confirmed booking (a free tier confirms at once; a priced one is confirmed without paying)."""

    def create(
        *,
        tier: TicketTier | None = None,
        quantity: int = 1,
        user: User | None = None,
        **tier_fields: Any,
    ) -> list[Ticket]:
        from app.domain.ticketing.bookings import confirm_booking

        tier = tier or make_tier(capacity=max(10, quantity), **tier_fields)
        booking = hold_units(
            db,
            user=user or make_user(),
            event=tier.event,
            tier=tier,
            quantity=quantity,
            now=now,
            hold_minutes=10,
        )
        confirm_booking(db, booking, now=now)
        db.flush()
        return list(
            db.scalars(select(Ticket).where(Ticket.booking_id == booking.id).order_by(Ticket.id))
        )

    return create


@pytest.fixture
def ticket_code(db: Session, now: datetime) -> Callable[..., str]:
    """`ticket_code(ticket)` -> the text its QR code carries (signed with its event's key)."""

    def code(ticket: Ticket, *, event_id: int | None = None) -> str:
        booking = db.get(Booking, ticket.booking_id)
        assert booking is not None
        event_id = event_id or booking.event_id
        key = event_key(db, booking.event_id, now=now)
        return sign(key, TicketCode(event_id, ticket.id, check_code(ticket.secret)))

    return code


@pytest.fixture
def make_staff(db: Session, make_user: Callable[..., User]) -> Callable[..., User]:
    """`make_staff(event, name=None)` -> a user granted check-in of `event` (no other role)."""

    def create(event: Event, **user_fields: Any) -> User:
        user = make_user(**user_fields)
        db.add(StaffGrant(organizer_id=event.organizer_id, user_id=user.id, event_id=event.id))
        db.flush()
        return user

    return create
