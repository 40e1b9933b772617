"""Best available seats, as fast under a rush as general admission, and honest when it fails.

Why tier rows: when every buyer computes "the best seats" from the same snapshot, they all
pick the same seats, collide, retry and give up (measured before this module: 12 holds/s
against 293 for general admission in the same run, and 2,667 false "sold out"s). Buyers must
skip each other at a grain coarser than the seat, and adjacency lives inside a row, so the
grain is the row: `tier_rows` holds the free seat positions of one price zone in one row,
kept current by a trigger on units (migration 0007). A buyer

1. claims the best row that still has `quantity` seats together and that nobody else is
   working in (`FOR UPDATE SKIP LOCKED`, front rows first: the index `ix_tier_rows_claim`);
2. picks the best run in it (`seat_placement.best_run`: no lone seat left where avoidable,
   nearest the middle);
3. claims those seats and writes the booking in one statement (`claims.CLAIM_ROW_SEATS`).

Two best-available buyers never meet in a row, so neither retries; a seat picked by hand on
the map (which locks seats, not rows) can still be mid-claim, and then those positions are
left out and the row tried again. A buyer waits only when every row with enough seats
together is locked (for the best of them, bounded by lock_timeout), which happens near the end
of a sale. Blocks were considered (a row cut into fixed blocks of seats); they split runs that
cross a block's edge and leave more lone seats, and the venues this serves have rows of tens of
seats, few enough for a row to be claimed whole.

When no row has `quantity` together the answer is the truth: "sold out" only when fewer seats
than asked are left, otherwise the seats that are left, offered for the buyer's consent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import BigInteger, bindparam, func, select, text, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.notifications import queue as notifications
from app.domain.ticketing import claims, holds, sale_gate
from app.domain.ticketing.availability import publish_availability
from app.domain.ticketing.errors import BookingError, OfferedSeat, SeatsNotTogether
from app.domain.ticketing.hoarding import HoldRules
from app.domain.ticketing.limits import check_order_size, limit_exceeded
from app.domain.ticketing.locking import busy_on_lock_timeout, lock_user_event
from app.domain.ticketing.models import Booking, TierRow, Unit
from app.domain.ticketing.on_sale import (
    SaleEvent,
    SaleTier,
    check_event_on_sale,
    check_tier_on_sale,
    tier_and_event,
)
from app.domain.ticketing.seat_placement import (
    RowSeats,
    best_run,
    nearest_together,
    spread,
    stranded,
)
from app.domain.ticketing.seatmap_view import seat_label
from app.domain.ticketing.waitlist import OfferSettings
from app.domain.webhooks import emit as webhooks

ROW_ATTEMPTS = 3  # runs tried in one row while hand-picked claims hold some of its seats
# Nearest groups of seats spread over the buyers who lost the same seats. Measured with
# `make bench-seated` (200 buyers after the same front seats): with 4, 1 offer in 8 was still
# free when accepted; with 12, 1 in 5 (the hand-pick rate went from 6 to 11 holds/s).
ALTERNATIVES = 8

_ROW_QUERY = (
    "SELECT id, grid_y, section, row_label, free_x, centre_x2 FROM tier_rows"
    " WHERE tier_id = :tier_id AND max_run >= :quantity AND id <> ALL(:skip)"
    " ORDER BY grid_y, id LIMIT 1 FOR UPDATE"
)
_SKIP_LOCKED_ROW = text(_ROW_QUERY + " SKIP LOCKED").bindparams(
    bindparam("skip", type_=ARRAY(BigInteger))
)
_WAIT_FOR_ROW = text(_ROW_QUERY).bindparams(bindparam("skip", type_=ARRAY(BigInteger)))


def hold_best_by_id(
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
    """`hold_best_available` for a tier named by id, as the form sends it: the tier, its event
    and the buyer's lock for the event come in one statement (`on_sale.tier_and_event`)."""
    tier, event = tier_and_event(session, tier_id, event_id=event_id, buyer_id=user.id)
    return hold_best_available(
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


def hold_best_available(
    session: Session,
    *,
    user: User,
    event: SaleEvent,
    tier: SaleTier,
    quantity: int,
    access_code: str | None = None,
    now: datetime,
    hold_minutes: int,
    offers: OfferSettings | None = None,
    rules: HoldRules | None = None,
    limit_locked: bool = False,
    gate_held: bool = False,
) -> Booking:
    """Hold the best `quantity` seats of `tier` side by side. Raises `SeatsNotTogether` (with an
    offer of separate seats) when no such run is left but enough seats are, "sold_out" when
    fewer are left. `rules`: the hoarding rules (default: `HoldRules()`). `limit_locked`: this
    transaction already holds the user's lock for the event; `gate_held`: it passed the
    event's sale gate (the claim re-checks the event)."""
    check_event_on_sale(event, now)
    if not event.is_seated:
        raise BookingError("invalid_tier")
    check_tier_on_sale(tier, event, now=now, access_code=access_code)
    check_order_size(tier, quantity)
    hold_expires_at = None if tier.price_minor == 0 else now + timedelta(minutes=hold_minutes)
    if not gate_held:
        sale_gate.pass_gate(session, event.id)
    with busy_on_lock_timeout():
        if not limit_locked:
            lock_user_event(session, user.id, event.id)

        def claim() -> Booking | None:
            return _claim_best(
                session,
                user_id=user.id,
                event_id=event.id,
                tier=tier,
                quantity=quantity,
                now=now,
                hold_expires_at=hold_expires_at,
                rules=rules or HoldRules(),
            )

        booking = claim()
        if booking is None and holds.expire_due_holds(
            session, now=now, offers=offers or OfferSettings(), event_id=event.id
        ):
            booking = claim()
        if booking is None:
            raise refusal(session, event_id=event.id, tier=tier, quantity=quantity)
    if hold_expires_at is None:  # free: confirmed by the claim itself
        notifications.booking_confirmed(session, booking_id=booking.id, user=user, now=now)
        webhooks.booking_confirmed(session, booking, now=now)
    publish_availability(session, event.id)
    return booking


def _claim_best(
    session: Session,
    *,
    user_id: int,
    event_id: int,
    tier: SaleTier,
    quantity: int,
    now: datetime,
    hold_expires_at: datetime | None,
    rules: HoldRules,
) -> Booking | None:
    skip: list[int] = []
    while (row := _lock_row(session, tier.id, quantity, skip)) is not None:
        busy: set[int] = set()
        for _ in range(ROW_ATTEMPTS):
            free = [x for x in row.free_x if x not in busy]
            positions = best_run(free, quantity, row.centre_x2 / 2)
            if positions is None:
                break
            try:
                booking = claims.claim_row_seats(
                    session,
                    user_id=user_id,
                    event_id=event_id,
                    tier_id=tier.id,
                    section=row.section,
                    row_label=row.row_label,
                    positions=positions,
                    unit_price_minor=tier.price_minor,
                    currency=tier.currency,
                    now=now,
                    hold_expires_at=hold_expires_at,
                    per_user_limit=tier.per_user_limit,
                    rules=rules,
                )
            except claims.UserLimitReached as reached:
                raise limit_exceeded(tier, reached.owned) from None
            if booking is not None:
                return booking
            busy.update(positions)  # someone is claiming (some of) them by hand right now
        skip.append(row.id)
    return None


def _lock_row(session: Session, tier_id: int, quantity: int, skip: list[int]) -> Row | None:
    """The best tier row with `quantity` seats together that nobody else holds; only when all
    such rows are held, wait for the best of them (it may still have a run when it is free)."""
    params = {"tier_id": tier_id, "quantity": quantity, "skip": skip}
    connection = session.connection()
    row = connection.execute(_SKIP_LOCKED_ROW, params).first()
    return row if row is not None else connection.execute(_WAIT_FOR_ROW, params).first()


def refusal(session: Session, *, event_id: int, tier: SaleTier, quantity: int) -> BookingError:
    """Why `quantity` seats together cannot be had: not together (with an offer), or sold out."""
    rows = row_seats(session, tier.id)
    left = sum(len(row.free_x) for row in rows)
    if left == 0:
        return BookingError("sold_out", f"{tier.name} is sold out.")
    if left < quantity:
        seats = "1 seat is" if left == 1 else f"{left} seats are"
        return BookingError(
            "sold_out", f"{tier.name}: only {seats} left, fewer than the {quantity} you asked for."
        )
    offer = offered_seats(session, event_id, tier.id, spread(rows, quantity))
    return SeatsNotTogether(tier.name, quantity, offer)


def row_seats(session: Session, tier_id: int) -> list[RowSeats]:
    """The tier's rows with free seats, front rows first."""
    rows = session.execute(
        select(
            TierRow.id,
            TierRow.grid_y,
            TierRow.section,
            TierRow.row_label,
            TierRow.free_x,
            TierRow.centre_x2,
        )
        .where(TierRow.tier_id == tier_id, TierRow.free > 0)
        .order_by(TierRow.grid_y, TierRow.id)
    )
    return [
        RowSeats(r.id, r.grid_y, r.section, r.row_label, tuple(r.free_x), r.centre_x2 / 2)
        for r in rows
    ]


def offered_seats(
    session: Session,
    event_id: int,
    tier_id: int,
    picks: Sequence[tuple[RowSeats, list[int]]],
) -> list[OfferedSeat]:
    """The seats at these row positions, with their names, in row then seat order."""
    wanted = [(row.section, row.row_label, x) for row, positions in picks for x in positions]
    if not wanted:
        return []
    seats = session.execute(
        select(Unit.id, Unit.section, Unit.row_label, Unit.seat_number)
        .where(
            Unit.event_id == event_id,
            Unit.tier_id == tier_id,
            tuple_(func.coalesce(Unit.section, ""), Unit.row_label, Unit.grid_x).in_(wanted),
        )
        .order_by(Unit.seat_order, Unit.id)
    )
    return [OfferedSeat(s.id, seat_label(s.section, s.row_label, s.seat_number)) for s in seats]


def nearest_alternative(
    session: Session, *, event_id: int, seat_ids: Sequence[int], buyer_id: int
) -> list[OfferedSeat]:
    """As many seats together as `seat_ids`, of the first one's price zone, near them (for a
    buyer whose hand-picked seats were just taken); empty when there are none.

    Everyone who lost the same seats would be offered the same next ones and collide again, so
    the offer is one of the `ALTERNATIVES` nearest groups, chosen by the buyer and the seats."""
    picked = session.execute(
        select(Unit.tier_id, func.coalesce(Unit.section, ""), Unit.grid_x, Unit.grid_y)
        .where(Unit.event_id == event_id, Unit.id.in_(seat_ids), Unit.tier_id.is_not(None))
        .order_by(Unit.seat_order)
    ).all()
    if not picked:
        return []
    tier_id, section = picked[0][0], picked[0][1]
    found = nearest_together(
        row_seats(session, tier_id),
        len(seat_ids),
        section=section,
        grid_y=picked[0].grid_y,
        centre=sum(p.grid_x for p in picked) / len(picked),
        choices=ALTERNATIVES,
    )
    if not found:
        return []
    choice = (buyer_id * 2_654_435_761 + sum(seat_ids)) % len(found)  # a multiplicative hash
    return offered_seats(session, event_id, tier_id, [found[choice]])


def stranded_seats(
    session: Session, *, event_id: int, seat_ids: Sequence[int]
) -> list[OfferedSeat]:
    """Free seats that holding `seat_ids` would leave alone in their row (a gentle warning for
    hand-picked seats: such a seat is hard to sell)."""
    picked = session.execute(
        select(Unit.tier_id, func.coalesce(Unit.section, ""), Unit.row_label, Unit.grid_x).where(
            Unit.event_id == event_id, Unit.id.in_(seat_ids), Unit.tier_id.is_not(None)
        )
    ).all()
    taken: dict[tuple[int, str, str], list[int]] = {}
    for tier_id, section, row_label, grid_x in picked:
        taken.setdefault((tier_id, section, row_label), []).append(grid_x)
    if not taken:
        return []
    rows = session.execute(
        select(TierRow.tier_id, TierRow.section, TierRow.row_label, TierRow.free_x).where(
            tuple_(TierRow.tier_id, TierRow.section, TierRow.row_label).in_(list(taken))
        )
    )
    lone: dict[int, list[tuple[RowSeats, list[int]]]] = {}
    for tier_id, section, row_label, free_x in rows:
        alone = stranded(free_x, taken[(tier_id, section, row_label)])
        if alone:
            row = RowSeats(0, 0, section, row_label, tuple(free_x), 0.0)
            lone.setdefault(tier_id, []).append((row, alone))
    return [
        seat
        for tier_id, picks in sorted(lone.items())
        for seat in offered_seats(session, event_id, tier_id, picks)
    ]
