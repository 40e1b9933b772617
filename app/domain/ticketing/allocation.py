"""Holding units for a buyer: general admission by tier, or chosen seats.

Everything happens in the caller's transaction: the event's sale gate (`sale_gate`), the
checks, the per-user limit under its lock, the claim, and the availability notification. Any
refusal raises a `BookingError` and leaves nothing claimed. Free bookings confirm at once
(tickets issued); paid ones stay pending with a hold until the payment confirms them
(`bookings.confirm_booking`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.notifications import queue as notifications
from app.domain.ticketing import claims, holds, sale_gate
from app.domain.ticketing.availability import publish_availability
from app.domain.ticketing.best_seats import stranded_seats
from app.domain.ticketing.errors import BookingError, LeavesSingleSeats, SeatsTaken
from app.domain.ticketing.hoarding import HoldRules
from app.domain.ticketing.limits import check_order_size, limit_exceeded, with_user_limits
from app.domain.ticketing.locking import busy_on_lock_timeout, lock_user_event
from app.domain.ticketing.models import Booking, BookingStatus, TicketTier, Unit
from app.domain.ticketing.on_sale import (
    SaleEvent,
    SaleTier,
    check_event_on_sale,
    check_tier_on_sale,
    tier_and_event,
)
from app.domain.ticketing.waitlist import OfferSettings
from app.domain.webhooks import emit as webhooks

MAX_SEATS_PER_ORDER = 20


def hold_units(
    session: Session,
    *,
    user: User,
    event: SaleEvent,
    tier: SaleTier | None,
    quantity: int,
    seat_ids: Sequence[int] | None = None,
    access_code: str | None = None,
    now: datetime,
    hold_minutes: int,
    offers: OfferSettings | None = None,
    rules: HoldRules | None = None,
    limit_locked: bool = False,
    gate_held: bool = False,
    allow_single_seats: bool = True,
) -> Booking:
    """Claim units for `user`: `quantity` of `tier` (general admission) or exactly `seat_ids`.

    Returns the booking: confirmed with tickets when it costs nothing, else pending with a
    hold of `hold_minutes`. `offers` configures waitlist offers for units freed on the way;
    `rules` the hoarding rules (default: `HoldRules()`).
    `limit_locked`: this transaction already holds the user's lock for the event;
    `gate_held`: it passed the event's sale gate in an earlier statement.
    Without `allow_single_seats`, chosen seats that would leave a free seat alone in its row
    are refused with `LeavesSingleSeats` (the buyer may then insist).
    """
    check_event_on_sale(event, now)
    if not gate_held:
        sale_gate.pass_gate(session, event.id)
    offers = offers or OfferSettings()
    rules = rules or HoldRules()
    with busy_on_lock_timeout():
        if seat_ids:
            booking = _hold_seats(
                session,
                user=user,
                event=event,
                seat_ids=seat_ids,
                access_code=access_code,
                now=now,
                hold_minutes=hold_minutes,
                offers=offers,
                rules=rules,
                allow_single_seats=allow_single_seats,
            )
        elif tier is None:
            raise BookingError("invalid_tier")
        else:
            booking = _hold_general_admission(
                session,
                user=user,
                event=event,
                tier=tier,
                quantity=quantity,
                access_code=access_code,
                now=now,
                hold_minutes=hold_minutes,
                offers=offers,
                rules=rules,
                limit_locked=limit_locked,
            )
    if booking.status == BookingStatus.CONFIRMED:  # free: confirmed by the claim itself
        notifications.booking_confirmed(session, booking_id=booking.id, user=user, now=now)
        webhooks.booking_confirmed(session, booking, now=now)
    publish_availability(session, event.id)
    return booking


def hold_tier(
    session: Session,
    *,
    user: User,
    event_id: int,
    tier_id: int,
    quantity: int,
    access_code: str | None = None,
    now: datetime,
    hold_minutes: int,
    offers: OfferSettings | None = None,
    rules: HoldRules | None = None,
) -> Booking:
    """`hold_units` for a tier named by id, as a form sends it (`on_sale.tier_and_event`)."""
    tier, event = tier_and_event(session, tier_id, event_id=event_id, buyer_id=user.id)
    return hold_units(
        session,
        user=user,
        event=event,
        tier=tier,
        quantity=quantity,
        access_code=access_code,
        now=now,
        hold_minutes=hold_minutes,
        offers=offers,
        rules=rules,
        limit_locked=True,
        gate_held=True,
    )


def _hold_general_admission(
    session: Session,
    *,
    user: User,
    event: SaleEvent,
    tier: SaleTier,
    quantity: int,
    access_code: str | None,
    now: datetime,
    hold_minutes: int,
    offers: OfferSettings,
    rules: HoldRules,
    limit_locked: bool,
) -> Booking:
    check_tier_on_sale(tier, event, now=now, access_code=access_code)
    check_order_size(tier, quantity)
    hold_expires_at = None if tier.price_minor == 0 else now + timedelta(minutes=hold_minutes)
    if not limit_locked:
        lock_user_event(session, user.id, event.id)

    def claim() -> Booking | None:
        try:
            return claims.claim_general_admission(
                session,
                user_id=user.id,
                event_id=event.id,
                tier_id=tier.id,
                quantity=quantity,
                unit_price_minor=tier.price_minor,
                currency=tier.currency,
                now=now,
                hold_expires_at=hold_expires_at,
                per_user_limit=tier.per_user_limit,
                rules=rules,
            )
        except claims.UserLimitReached as reached:
            raise limit_exceeded(tier, reached.owned) from None

    booking = claim()
    # The lazy expiry check: expired holds go back (to the waitlist first), then retry.
    if booking is None and holds.expire_due_holds(
        session, now=now, offers=offers, event_id=event.id
    ):
        booking = claim()
    if booking is None:
        raise BookingError("sold_out")
    return booking


def _hold_seats(
    session: Session,
    *,
    user: User,
    event: SaleEvent,
    seat_ids: Sequence[int],
    access_code: str | None,
    now: datetime,
    hold_minutes: int,
    offers: OfferSettings,
    rules: HoldRules,
    allow_single_seats: bool,
) -> Booking:
    ids = sorted(set(seat_ids))
    if len(ids) != len(seat_ids):
        raise BookingError("invalid_seats", "Each seat can be chosen only once.")
    if len(ids) > MAX_SEATS_PER_ORDER:
        raise BookingError(
            "invalid_quantity", f"Please choose at most {MAX_SEATS_PER_ORDER} seats per order."
        )
    seats = session.execute(
        select(Unit.id, Unit.tier_id).where(
            Unit.id.in_(ids), Unit.event_id == event.id, Unit.blocked.is_(False)
        )
    ).all()
    tier_of = {seat_id: tier_id for seat_id, tier_id in seats if tier_id is not None}
    if len(tier_of) != len(ids):
        raise BookingError("invalid_seats")
    tiers = {
        tier.id: tier
        for tier in session.scalars(
            select(TicketTier).where(TicketTier.id.in_(set(tier_of.values())))
        )
    }
    seats_by_tier: dict[int, list[int]] = defaultdict(list)
    for seat_id in ids:
        seats_by_tier[tier_of[seat_id]].append(seat_id)
    for tier_id, tier_seats in seats_by_tier.items():
        check_tier_on_sale(tiers[tier_id], event, now=now, access_code=access_code)
        check_order_size(tiers[tier_id], len(tier_seats))
    if not allow_single_seats:
        lone = stranded_seats(session, event_id=event.id, seat_ids=ids)
        if lone:
            raise LeavesSingleSeats(lone)
    total = sum(tiers[t].price_minor * len(s) for t, s in seats_by_tier.items())
    hold_expires_at = None if total == 0 else now + timedelta(minutes=hold_minutes)

    def claim() -> Booking:
        locked = claims.lock_free_seats(session, event_id=event.id, seat_ids=ids)
        if not locked and not sale_gate.is_on_sale(session, event.id, now):
            raise BookingError("event_not_on_sale")
        if len(locked) != len(ids) and holds.expire_due_holds(
            session, now=now, offers=offers, event_id=event.id
        ):
            locked = claims.lock_free_seats(session, event_id=event.id, seat_ids=ids)
        if len(locked) != len(ids):
            raise SeatsTaken(set(ids) - set(locked))
        return claims.book_locked_seats(
            session,
            user_id=user.id,
            event_id=event.id,
            seats_by_tier=dict(seats_by_tier),
            prices={tier_id: tier.price_minor for tier_id, tier in tiers.items()},
            currency=next(iter(tiers.values())).currency,
            now=now,
            hold_expires_at=hold_expires_at,
        )

    return with_user_limits(
        session,
        user_id=user.id,
        event_id=event.id,
        wanted={tiers[t]: len(s) for t, s in seats_by_tier.items()},
        now=now,
        rules=rules,
        then=claim,
    )
