"""The claim statements: the only code that hands units to bookings.

A general-admission claim is ONE statement: it picks free units through the partial index on
free units (`ix_units_free`, ordered by `seat_order`) with `FOR UPDATE SKIP LOCKED`, and only
when it got all of them inserts the booking and its line, links the units and, for a booking
that confirms at once, issues its tickets. Fewer free units than wanted writes nothing.
The same statement first counts what the user already holds or owns of the tier (given a
per-user limit) and their recent bookings of the event (the hoarding rules, `hoarding`), and
claims nothing when either refuses: the caller must hold the user's lock for the event
(`locking.lock_user_event`, taken in an earlier statement) so those counts are current.
Best available claims the seats it chose in one tier row with the same statement around a
different pick (`CLAIM_ROW_SEATS`). Every claim statement also re-checks that the event is
still on sale (`sale_gate.ON_SALE`): the caller passed the event's sale gate in an earlier
statement, and a cancellation that committed meanwhile is seen only by a later one. Other
rules (sales windows, order sizes) are checked by the callers; these functions only claim.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.types import BigInteger, Integer

from app.domain.ticketing import hoarding
from app.domain.ticketing.errors import BookingError
from app.domain.ticketing.limits import LIVE_BOOKING
from app.domain.ticketing.models import Booking, BookingLine, BookingStatus
from app.domain.ticketing.sale_gate import ON_SALE
from app.observability import metrics

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone
REFERENCE_LENGTH = 8
# Ticket secrets are 64 hex characters (244 random bits) from PostgreSQL's strong random
# source: `replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '')`.
# The claim, around a `picked` query that locks the units to claim (SKIP LOCKED) and claims
# nothing when the event is no longer on sale, the per-user limit would be passed or the
# hoarding rules make the user wait: one scan of the user's bookings of the event feeds the
# last two (`mine`). The booking is written only when `picked` got exactly :quantity units.
_CLAIM = """
    WITH mine AS (
        SELECT (SELECT count(*) FROM units u
                WHERE CAST(:per_user_limit AS integer) IS NOT NULL
                  AND u.booking_id = ANY(mine.live) AND u.tier_id = :tier_id) AS owned,
               mine.rate_until, mine.cooldown_until, {on_sale} AS on_sale
        FROM (SELECT array_agg(b.id) FILTER (WHERE {live_booking}) AS live, {wait_columns}
              FROM bookings b WHERE b.user_id = :user_id AND b.event_id = :event_id) AS mine
    ), picked AS (
        {picked}
    ), booking AS (
        INSERT INTO bookings (reference, user_id, event_id, status, quantity, total_minor,
                              currency, hold_expires_at, confirmed_at, created_at)
        SELECT :reference, :user_id, :event_id, :status, :quantity, :total_minor,
               :currency, :hold_expires_at, :confirmed_at, :now
        WHERE (SELECT count(*) FROM picked) = :quantity
        RETURNING id
    ), line AS (
        INSERT INTO booking_lines (booking_id, tier_id, quantity, unit_price_minor, seat_ids)
        SELECT id, :tier_id, :quantity, :unit_price_minor, {line_seat_ids} FROM booking
    ), claimed AS (
        UPDATE units SET booking_id = booking.id FROM booking, picked
        WHERE units.id = picked.id
        RETURNING units.id AS unit_id, units.tier_id, booking.id AS booking_id
    ), ticket AS (
        INSERT INTO tickets (booking_id, unit_id, tier_id, secret, status, created_at)
        SELECT booking_id, unit_id, tier_id,
               replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''),
               'valid', :now
        FROM claimed WHERE :confirm
    )
    SELECT (SELECT id FROM booking) AS booking_id, owned, rate_until, cooldown_until, on_sale
    FROM mine
"""
_ALLOWED = (
    "(SELECT on_sale AND (CAST(:per_user_limit AS integer) IS NULL"  # noqa: S608 - constants only
    f" OR owned + :quantity <= :per_user_limit) AND {hoarding.NO_WAIT} FROM mine)"
)
CLAIM_GENERAL_ADMISSION = text(
    _CLAIM.format(
        on_sale=ON_SALE,
        live_booking=LIVE_BOOKING,
        wait_columns=hoarding.WAIT_COLUMNS,
        picked=f"""SELECT id FROM units
        WHERE tier_id = :tier_id AND booking_id IS NULL AND NOT blocked AND {_ALLOWED}
        ORDER BY seat_order
        LIMIT :quantity
        FOR UPDATE SKIP LOCKED""",  # noqa: S608 - constants only
        line_seat_ids="NULL",
    )
)
# Seats of one tier row at the given positions, as best available chose them. The scan runs
# on the seat index (`uq_units_seat`) over one row; wheelchair spaces are never handed out.
CLAIM_ROW_SEATS = text(
    _CLAIM.format(
        on_sale=ON_SALE,
        live_booking=LIVE_BOOKING,
        wait_columns=hoarding.WAIT_COLUMNS,
        picked=f"""SELECT id FROM units
        WHERE event_id = :event_id AND COALESCE(section, '') = :section
          AND row_label = :row_label AND grid_x = ANY(:positions) AND tier_id = :tier_id
          AND booking_id IS NULL AND NOT blocked AND NOT accessible AND {_ALLOWED}
        ORDER BY id
        FOR UPDATE SKIP LOCKED""",  # noqa: S608 - constants only
        line_seat_ids="(SELECT array_agg(id ORDER BY id) FROM picked)",
    )
).bindparams(bindparam("positions", type_=ARRAY(Integer)))


class UserLimitReached(Exception):
    """The claim refused: the user already holds or owns `owned` units of the tier."""

    def __init__(self, owned: int) -> None:
        super().__init__(owned)
        self.owned = owned


# Locks exactly the seats asked for (in id order); a seat locked by another buyer is skipped,
# so the caller sees fewer rows than it asked for and answers "seats taken" without waiting.
# None at all once the event is no longer on sale.
_LOCK_FREE_SEATS = text(
    "SELECT id FROM units WHERE id = ANY(:ids) AND event_id = :event_id "  # noqa: S608 - constants only
    f"AND booking_id IS NULL AND NOT blocked AND tier_id IS NOT NULL AND {ON_SALE} "
    "ORDER BY id FOR UPDATE SKIP LOCKED"
).bindparams(bindparam("ids", type_=ARRAY(BigInteger)))

_LINK_UNITS = text("UPDATE units SET booking_id = :booking_id WHERE id = ANY(:ids)").bindparams(
    bindparam("ids", type_=ARRAY(BigInteger))
)

_ISSUE_TICKETS = text(
    "INSERT INTO tickets (booking_id, unit_id, tier_id, secret, status, created_at) "
    "SELECT booking_id, id, tier_id, "
    "replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'valid', :now "
    "FROM units WHERE booking_id = :booking_id"
)


def new_reference() -> str:
    # 256 is a multiple of the alphabet's 32 letters, so each letter is equally likely.
    letters = len(REFERENCE_ALPHABET)
    return "".join(REFERENCE_ALPHABET[b % letters] for b in secrets.token_bytes(REFERENCE_LENGTH))


def claim_general_admission(
    session: Session,
    *,
    user_id: int,
    event_id: int,
    tier_id: int,
    quantity: int,
    unit_price_minor: int,
    currency: str,
    now: datetime,
    hold_expires_at: datetime | None,
    per_user_limit: int | None = None,
    rules: hoarding.HoldRules | None,
) -> Booking | None:
    """Claim `quantity` free units of the tier into a new booking, or nothing (None) when too
    few are free. With `hold_expires_at` None the booking is confirmed at once and its tickets
    are issued. With `per_user_limit`, raises `UserLimitReached` instead of passing it; with
    `rules`, a `BookingError` while they make the user wait (the caller holds the user's lock
    for the event). Without `rules` (a waitlist offer) the hoarding rules are not checked.
    An event no longer on sale raises `event_not_on_sale` (the caller passed its sale gate)."""
    return _claim(
        session,
        CLAIM_GENERAL_ADMISSION,
        {},
        user_id=user_id,
        event_id=event_id,
        tier_id=tier_id,
        quantity=quantity,
        unit_price_minor=unit_price_minor,
        currency=currency,
        now=now,
        hold_expires_at=hold_expires_at,
        per_user_limit=per_user_limit,
        rules=rules,
    )


def claim_row_seats(
    session: Session,
    *,
    user_id: int,
    event_id: int,
    tier_id: int,
    section: str,
    row_label: str,
    positions: Sequence[int],
    unit_price_minor: int,
    currency: str,
    now: datetime,
    hold_expires_at: datetime | None,
    per_user_limit: int | None = None,
    rules: hoarding.HoldRules | None,
) -> Booking | None:
    """`claim_general_admission` for the seats at `positions` (grid_x) of one tier row: all of
    them into a new booking, or nothing (None) when any is taken or being claimed."""
    return _claim(
        session,
        CLAIM_ROW_SEATS,
        {"section": section, "row_label": row_label, "positions": list(positions)},
        user_id=user_id,
        event_id=event_id,
        tier_id=tier_id,
        quantity=len(positions),
        unit_price_minor=unit_price_minor,
        currency=currency,
        now=now,
        hold_expires_at=hold_expires_at,
        per_user_limit=per_user_limit,
        rules=rules,
    )


def _claim(
    session: Session,
    statement: TextClause,
    where: dict[str, object],
    *,
    user_id: int,
    event_id: int,
    tier_id: int,
    quantity: int,
    unit_price_minor: int,
    currency: str,
    now: datetime,
    hold_expires_at: datetime | None,
    per_user_limit: int | None,
    rules: hoarding.HoldRules | None,
) -> Booking | None:
    confirm = hold_expires_at is None
    values = {
        "reference": new_reference(),
        "user_id": user_id,
        "event_id": event_id,
        "status": BookingStatus.CONFIRMED if confirm else BookingStatus.PENDING,
        "quantity": quantity,
        "total_minor": unit_price_minor * quantity,
        "currency": currency,
        "hold_expires_at": hold_expires_at,
        "confirmed_at": now if confirm else None,
        "cancelled_at": None,
        "cancellation_reason": None,
        "created_at": now,
    }
    booking_id, owned, rate_until, cooldown_until, on_sale = (
        session.connection()
        .execute(
            statement,
            {
                **values,
                **where,
                **(rules.params() if rules else hoarding.NO_RULES),
                "status": values["status"].value,
                "now": now,
                "tier_id": tier_id,
                "unit_price_minor": unit_price_minor,
                "confirm": confirm,
                "per_user_limit": per_user_limit,
            },
        )
        .one()
    )
    if booking_id is None:
        if not on_sale:
            raise BookingError("event_not_on_sale")
        if per_user_limit is not None and owned + quantity > per_user_limit:
            raise UserLimitReached(owned)
        hoarding.check_waits(rate_until, cooldown_until, now=now)
        return None
    # Every column is known here, so the booking joins the session as a loaded, persistent
    # object without reading back the row the statement just wrote.
    booking = Booking(id=booking_id, coupon_id=None, discount_minor=0, **values)
    make_transient_to_detached(booking)
    session.add(booking)
    metrics.count(session, metrics.BOOKINGS if confirm else metrics.HOLDS)
    return booking


def lock_free_seats(session: Session, *, event_id: int, seat_ids: Sequence[int]) -> list[int]:
    """Lock those of `seat_ids` that are free right now (none when the event is no longer on
    sale: the caller passed its sale gate); returns the ids it locked."""
    return list(session.scalars(_LOCK_FREE_SEATS, {"ids": list(seat_ids), "event_id": event_id}))


def book_locked_seats(
    session: Session,
    *,
    user_id: int,
    event_id: int,
    seats_by_tier: dict[int, list[int]],
    prices: dict[int, int],
    currency: str,
    now: datetime,
    hold_expires_at: datetime | None,
) -> Booking:
    """A booking for seats already locked by `lock_free_seats` (tier id -> seat ids)."""
    confirm = hold_expires_at is None
    quantity = sum(len(ids) for ids in seats_by_tier.values())
    booking = Booking(
        reference=new_reference(),
        user_id=user_id,
        event_id=event_id,
        status=BookingStatus.CONFIRMED if confirm else BookingStatus.PENDING,
        quantity=quantity,
        total_minor=sum(prices[tier_id] * len(ids) for tier_id, ids in seats_by_tier.items()),
        currency=currency,
        hold_expires_at=hold_expires_at,
        confirmed_at=now if confirm else None,
        created_at=now,
    )
    booking.lines = [
        BookingLine(
            tier_id=tier_id, quantity=len(ids), unit_price_minor=prices[tier_id], seat_ids=ids
        )
        for tier_id, ids in sorted(seats_by_tier.items())
    ]
    session.add(booking)
    session.flush()
    all_ids = sorted(unit_id for ids in seats_by_tier.values() for unit_id in ids)
    session.execute(_LINK_UNITS, {"booking_id": booking.id, "ids": all_ids})
    if confirm:
        issue_tickets(session, booking.id, now=now)
    metrics.count(session, metrics.BOOKINGS if confirm else metrics.HOLDS)
    return booking


def link_units(session: Session, booking_id: int, unit_ids: Sequence[int]) -> None:
    """Give units already locked by this transaction to `booking_id`."""
    session.execute(_LINK_UNITS, {"booking_id": booking_id, "ids": list(unit_ids)})


def claim_units_of_tier(session: Session, *, tier_id: int, quantity: int) -> list[int]:
    """Lock `quantity` free units of a tier (all or nothing: [] when there are too few)."""
    ids = list(
        session.scalars(
            text(
                "SELECT id FROM units WHERE tier_id = :tier_id AND booking_id IS NULL "
                "AND NOT blocked ORDER BY seat_order LIMIT :quantity FOR UPDATE SKIP LOCKED"
            ),
            {"tier_id": tier_id, "quantity": quantity},
        )
    )
    return ids if len(ids) == quantity else []


def issue_tickets(session: Session, booking_id: int, *, now: datetime) -> None:
    """One ticket, with a random opaque secret, for every unit of the booking."""
    session.execute(_ISSUE_TICKETS, {"booking_id": booking_id, "now": now})
