"""`sales_scenario()`: an event with paid, discounted, refunded, free and held bookings,
coupons, a waitlist and check-ins at two gates, and the figures its analytics must show."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.domain.accounts.models import Role, User
from app.domain.checkin.models import CheckIn
from app.domain.events.models import Event
from app.domain.payments.refunds import refund_booking
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.bookings import confirm_booking
from app.domain.ticketing.coupon_settings import CouponData, create_coupon
from app.domain.ticketing.coupons import apply_coupon
from app.domain.ticketing.models import (
    Booking,
    CouponKind,
    Ticket,
    TicketTier,
    WaitlistEntry,
    WaitlistStatus,
)
from app.domain.ticketing.waitlist import OfferSettings


@dataclass
class SalesScenario:
    organizer: User
    event: Event
    vip: TicketTier
    general: TicketTier
    first_day: date  # in the event's zone, New York


@pytest.fixture
def sales_scenario(
    db: Session,
    now: datetime,
    make_user: Callable[..., User],
    make_event: Callable[..., Event],
    make_tier: Callable[..., TicketTier],
    pay_booking: Callable[[Booking], Booking],
) -> Callable[..., SalesScenario]:
    """Expected figures (USD): VIP sold 3 on the first day (one booking confirmed at 03:00 UTC
    the next day, still the first day in New York), general 3 free two days later; gross
    7,250 (5,000 + 2,500 less a 10% coupon), discounts 250, refunds 2,500 (one VIP ticket),
    net 4,750; SAVE10 used once, UNUSED never; the waitlist 6 joined, 2 waiting, 3 offered,
    1 converted, 1 expired (50%); VIP 1 of 2 tickets admitted, general 2 of 3 (a third
    admission undone); gates North 2, South 1. An unpaid hold counts nowhere."""

    def create(**event_fields: Any) -> SalesScenario:
        organizer = make_user(role=Role.ORGANIZER)
        event = make_event(organizer=organizer, timezone="America/New_York", **event_fields)
        vip = make_tier(event=event, name="VIP", price_minor=2500, capacity=10)
        general = make_tier(event=event, name="General", capacity=10)
        offers = OfferSettings()
        create_coupon(
            db,
            event=event,
            data=CouponData(code="SAVE10", kind=CouponKind.PERCENT, percent_off=10),
            actor_id=None,
            now=now,
        )
        create_coupon(
            db,
            event=event,
            data=CouponData(code="UNUSED", kind=CouponKind.FIXED, amount_off_minor=500),
            actor_id=None,
            now=now,
        )

        def hold(tier: TicketTier, quantity: int) -> Booking:
            return hold_units(
                db,
                user=make_user(),
                event=event,
                tier=tier,
                quantity=quantity,
                now=now,
                hold_minutes=10,
            )

        pair = pay_booking(hold(vip, 2))
        discounted = hold(vip, 1)
        apply_coupon(db, discounted, "SAVE10", now=now)
        discounted = pay_booking(discounted)
        free = confirm_booking(db, hold(general, 3), now=now)
        hold(vip, 1)  # never paid
        first_ticket = db.scalars(
            select(Ticket.id).where(Ticket.booking_id == pair.id).order_by(Ticket.id)
        ).first()
        refund_booking(
            db,
            pair,
            ticket_ids=[first_ticket],
            reason="Could not come",
            actor_id=organizer.id,
            now=now,
            offers=offers,
        )
        start = (now - timedelta(days=5)).replace(hour=15, minute=0, second=0, microsecond=0)
        for booking, at in (
            (pair, start),
            (discounted, start + timedelta(hours=12)),  # 03:00 UTC: still the day in New York
            (free, start + timedelta(days=2)),
        ):
            db.execute(update(Booking).where(Booking.id == booking.id).values(confirmed_at=at))
        vip_ticket = db.scalar(select(Ticket).where(Ticket.booking_id == discounted.id))
        general_tickets = db.scalars(
            select(Ticket).where(Ticket.booking_id == free.id).order_by(Ticket.id)
        ).all()
        admissions = (
            (vip_ticket, "North", None),
            (general_tickets[0], "North", None),
            (general_tickets[1], "South", None),
            (general_tickets[2], "South", now),  # undone
        )
        for ticket, gate, undone in admissions:
            db.add(
                CheckIn(
                    ticket_id=ticket.id,
                    event_id=event.id,
                    tier_id=ticket.tier_id,
                    gate=gate,
                    scanned_at=now,
                    undone_at=undone,
                )
            )
        statuses = (
            (WaitlistStatus.WAITING, False),
            (WaitlistStatus.WAITING, False),
            (WaitlistStatus.OFFERED, True),
            (WaitlistStatus.CONVERTED, True),
            (WaitlistStatus.EXPIRED, True),
            (WaitlistStatus.LEFT, False),
        )
        for status, offered in statuses:
            db.add(
                WaitlistEntry(
                    tier_id=general.id,
                    user_id=make_user().id,
                    quantity=1,
                    status=status,
                    offered_at=now if offered else None,
                )
            )
        db.flush()
        return SalesScenario(organizer, event, vip, general, start.date())

    return create
