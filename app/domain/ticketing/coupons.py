"""Coupons on a held booking: what a code takes off, applying and removing it, and keeping its
use when the booking is confirmed. (Organizers make coupons in `coupon_settings`.)

Why in ticketing, not payments: a coupon changes what a booking costs, and its use is claimed
with the booking, under the booking's lock, like its units; it is checked again by
`bookings.confirm_booking`. The payments area only reads `booking.total_minor` (what a payment
is started for), so it needs no coupon rules, and ticketing never imports payments.

Arithmetic. Amounts are integer minor units, so a percentage is taken of minor units with
`Decimal` and rounded half up to a whole minor unit: the yen for JPY (no decimals), the fils
for KWD (three). Only the lines of the coupon's tiers count (all lines for a whole-event
coupon), and a fixed amount never takes more than those lines cost: a total never goes below
zero. A booking whose total becomes zero is confirmed without a provider ("Confirm these
tickets", `bookings.claim_free_booking`).

Uses. A use is a booking that carries the coupon and is confirmed, or pending with its hold
still running. Nothing else records it, so a hold that runs out gives its use back at that
moment, without a write (the expiry sweep knows nothing of coupons); a cancelled or refunded
booking's use is back too. Uses are counted under a row lock on the coupon (`FOR UPDATE`),
in a statement after the lock is granted: buyers racing for the last use queue on the row and
each counts what those before it committed, so a code with one use left is used once.

Confirming. A hold confirmed while it runs keeps its use (even if the organizer lowered
`max_uses` since). A hold that ran out gave its use back: when a late payment (or anything
else) confirms it, `keep_use` takes the coupon's lock and counts again, and if the code was
used up meanwhile the confirmation is refused (`coupon_used_up`) and the payment refunded, as
for seats sold meanwhile. The window and the active flag are not checked again: the price was
agreed while they allowed it.

Payments in flight. Changing the code changes the total a payment started before was made
for. Applying and removing are allowed anyway (the buyer may have abandoned that checkout):
a stale payment that completes no longer matches the booking's total, and `payments.events`
refunds it (`price_changed`) instead of confirming at the old price.

Guessing. A code that does not apply (unknown, not yet or no longer valid, used up, not for
these tickets) is an attempt of the rate limits' "coupon" action, recorded by the caller in a
transaction of its own (this one rolls back: `record_wrong_code`). While the user or the
network has too many, no code is looked up at all, so a right one tells a guesser nothing.

Locks: the booking, then the coupon, the order `confirm_booking` takes them in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from app.domain import audit
from app.domain.accounts import rate_limit
from app.domain.accounts.errors import TooManyAttempts
from app.domain.accounts.models import AttemptOutcome
from app.domain.ticketing import holds
from app.domain.ticketing.errors import BookingError, CouponError, wait_phrase
from app.domain.ticketing.locking import busy_on_lock_timeout, lock_booking
from app.domain.ticketing.models import (
    Booking,
    BookingLine,
    BookingStatus,
    Coupon,
    CouponKind,
)

MAX_CODE = 40
# Refusals that say something about the code (so they count as guesses); the others are about
# the booking (its hold ran out, it was paid) and count nothing.
GUESSES = frozenset(
    {
        "unknown_code",
        "not_yet_valid",
        "expired",
        "used_up",
        "used_up_by_you",
        "not_for_these_tickets",
        "too_few_tickets",
    }
)


def normal_code(code: str) -> str:
    """A code as stored and compared: without surrounding spaces, upper-case."""
    return code.strip().upper()


@dataclass(frozen=True)
class Line:
    tier_id: int
    quantity: int
    unit_price_minor: int


@dataclass(frozen=True)
class Price:
    """What a booking costs with a coupon (or none)."""

    subtotal_minor: int  # every line at its price
    eligible_minor: int  # the lines the coupon takes money off
    eligible_quantity: int
    discount_minor: int

    @property
    def total_minor(self) -> int:
        return self.subtotal_minor - self.discount_minor


def discount_of(
    kind: CouponKind, *, percent_off: int | None, amount_off_minor: int | None, eligible_minor: int
) -> int:
    """Minor units off `eligible_minor`: a percentage rounded half up to a whole minor unit,
    or a fixed amount, never more than `eligible_minor`."""
    if kind == CouponKind.PERCENT:
        share = Decimal(eligible_minor) * Decimal(percent_off or 0) / Decimal(100)
        off = int(share.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    else:
        off = amount_off_minor or 0
    return max(0, min(off, eligible_minor))


def price(lines: Iterable[Line], coupon: Coupon | None) -> Price:
    """The price of these lines with `coupon` (None: no discount)."""
    lines = list(lines)
    subtotal = sum(line.unit_price_minor * line.quantity for line in lines)
    if coupon is None:
        return Price(subtotal, 0, 0, 0)
    tiers = coupon.tier_ids
    eligible = [line for line in lines if tiers is None or line.tier_id in tiers]
    eligible_minor = sum(line.unit_price_minor * line.quantity for line in eligible)
    off = discount_of(
        coupon.kind,
        percent_off=coupon.percent_off,
        amount_off_minor=coupon.amount_off_minor,
        eligible_minor=eligible_minor,
    )
    return Price(subtotal, eligible_minor, sum(line.quantity for line in eligible), off)


def paid_for(
    lines: list[Line], taken: dict[int, int], *, discount_minor: int, coupon: Coupon | None
) -> int:
    """What `taken` tickets (tier id -> how many) of a booking with these lines cost after its
    discount: their price less their share of `discount_minor`, shared among the tickets the
    coupon applies to by price (rounded half up). Without the coupon (it was deleted with its
    event) the discount is shared among all the tickets."""
    tiers = coupon.tier_ids if coupon is not None else None
    price_of = {line.tier_id: line.unit_price_minor for line in lines}
    full = sum(price_of[tier_id] * count for tier_id, count in taken.items())
    if not discount_minor:
        return full
    eligible = sum(
        line.unit_price_minor * line.quantity
        for line in lines
        if tiers is None or line.tier_id in tiers
    )
    taken_eligible = sum(
        price_of[tier_id] * count
        for tier_id, count in taken.items()
        if tiers is None or tier_id in tiers
    )
    if not eligible:
        return full
    share = Decimal(discount_minor) * Decimal(taken_eligible) / Decimal(eligible)
    return full - int(share.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _lines(session: Session, booking_id: int) -> list[Line]:
    return [
        Line(tier_id, quantity, unit_price)
        for tier_id, quantity, unit_price in session.execute(
            select(BookingLine.tier_id, BookingLine.quantity, BookingLine.unit_price_minor)
            .where(BookingLine.booking_id == booking_id)
            .order_by(BookingLine.id)
        )
    ]


def _lock_booking(session: Session, booking: Booking, now: datetime) -> Booking:
    """The booking under its row lock, refused unless it is a hold still running."""
    locked = lock_booking(session, booking.id)
    if holds.is_expired(locked, now):
        raise BookingError("hold_expired")
    if locked.status != BookingStatus.PENDING:
        raise BookingError("booking_closed")
    return locked


def _live(now: datetime):  # noqa: ANN202 - a SQL condition
    """Bookings that hold a use of their coupon at `now`."""
    return or_(
        Booking.status == BookingStatus.CONFIRMED,
        and_(Booking.status == BookingStatus.PENDING, Booking.hold_expires_at > now),
    )


def _other_uses(
    session: Session, coupon_id: int, *, booking_id: int, user_id: int | None, now: datetime
) -> tuple[int, int]:
    """The coupon's uses by bookings other than `booking_id`: in all, and the user's."""
    mine = Booking.user_id == user_id if user_id is not None else Booking.id.is_(None)
    total, by_user = session.execute(
        select(func.count(), func.count().filter(mine)).where(
            Booking.coupon_id == coupon_id, Booking.id != booking_id, _live(now)
        )
    ).one()
    return total, by_user


def _lock_coupon(session: Session, query) -> Coupon | None:  # noqa: ANN001 - a select
    with busy_on_lock_timeout():
        return session.scalars(
            query.with_for_update().execution_options(populate_existing=True)
        ).first()


def _check_guessing(
    session: Session,
    *,
    user_id: int | None,
    network: str | None,
    policy: rate_limit.Policy | None,
    now: datetime,
) -> None:
    if policy is None:
        return
    subject = rate_limit.user_subject(user_id) if user_id is not None else ""
    try:
        rate_limit.check(session, policy, subject=subject, network=network, now=now)
    except TooManyAttempts as exc:
        wait = wait_phrase(timedelta(seconds=exc.retry_after))
        raise CouponError(
            "too_many_guesses", f"Too many codes that did not work. Please try again in {wait}."
        ) from exc


def _check_valid(coupon: Coupon | None, now: datetime) -> Coupon:
    if coupon is None:
        raise CouponError("unknown_code")
    if not coupon.active or (coupon.valid_until is not None and coupon.valid_until <= now):
        raise CouponError("expired")
    if coupon.valid_from is not None and coupon.valid_from > now:
        raise CouponError("not_yet_valid")
    return coupon


def _check_fits(coupon: Coupon, booking: Booking, priced: Price) -> None:
    if priced.eligible_quantity == 0 or (
        coupon.kind == CouponKind.FIXED and coupon.currency != booking.currency
    ):
        raise CouponError("not_for_these_tickets")
    if priced.eligible_quantity < coupon.min_quantity:
        raise CouponError(
            "too_few_tickets",
            f"That code needs at least {coupon.min_quantity} tickets it applies to.",
        )


def apply_coupon(
    session: Session,
    booking: Booking,
    code: str,
    *,
    now: datetime,
    policy: rate_limit.Policy | None = None,
    network: str | None = None,
) -> Booking:
    """Apply the event's coupon `code` to the held booking (replacing one applied before) and
    set its discount and total. `policy` (`rate_limit.policy(COUPON, config)`) refuses the
    user or network who tried too many codes that did not apply; the caller records a refusal
    in `GUESSES` with `record_wrong_code`. See the module docstring for how uses are counted."""
    _check_guessing(session, user_id=booking.user_id, network=network, policy=policy, now=now)
    locked = _lock_booking(session, booking, now)
    wanted = normal_code(code)
    coupon = _check_valid(
        _lock_coupon(
            session,
            select(Coupon).where(Coupon.event_id == locked.event_id, Coupon.code == wanted),
        ),
        now,
    )
    priced = price(_lines(session, locked.id), coupon)
    _check_fits(coupon, locked, priced)
    total, by_user = _other_uses(
        session, coupon.id, booking_id=locked.id, user_id=locked.user_id, now=now
    )
    if coupon.max_uses is not None and total >= coupon.max_uses:
        raise CouponError("used_up")
    if coupon.max_uses_per_user is not None and by_user >= coupon.max_uses_per_user:
        raise CouponError("used_up_by_you")
    locked.coupon_id = coupon.id
    locked.discount_minor = priced.discount_minor
    locked.total_minor = priced.total_minor
    session.flush()
    audit.record(
        session,
        "booking.coupon_applied",
        actor_id=locked.user_id,
        target=locked,
        now=now,
        code=coupon.code,
        discount_minor=priced.discount_minor,
    )
    return locked


def remove_coupon(session: Session, booking: Booking, *, now: datetime) -> Booking:
    """Take the coupon off the held booking: it costs its lines' price again, and the code's
    use is free at once (no lock on the coupon needed to give a use back)."""
    locked = _lock_booking(session, booking, now)
    if locked.coupon_id is None:
        return locked
    locked.coupon_id = None
    locked.discount_minor = 0
    locked.total_minor = price(_lines(session, locked.id), None).total_minor
    session.flush()
    audit.record(session, "booking.coupon_removed", actor_id=locked.user_id, target=locked, now=now)
    return locked


def keep_use(session: Session, booking: Booking, *, now: datetime) -> None:
    """Called by `confirm_booking` on the locked booking: a booking whose hold ran out gave its
    coupon's use back, so it may keep the discount only if the code has a use left (or it
    raises `coupon_used_up`). A running hold's use is its own: nothing to check."""
    if booking.coupon_id is None or not holds.is_expired(booking, now):
        return
    coupon = _lock_coupon(session, select(Coupon).where(Coupon.id == booking.coupon_id))
    if coupon is None:
        return
    total, by_user = _other_uses(
        session, coupon.id, booking_id=booking.id, user_id=booking.user_id, now=now
    )
    if (coupon.max_uses is not None and total >= coupon.max_uses) or (
        coupon.max_uses_per_user is not None and by_user >= coupon.max_uses_per_user
    ):
        raise BookingError("coupon_used_up")


def uses(session: Session, coupon_ids: list[int], *, now: datetime) -> dict[int, tuple[int, int]]:
    """Coupon id -> (uses now, of which confirmed), for the organizer's list."""
    if not coupon_ids:
        return {}
    confirmed = Booking.status == BookingStatus.CONFIRMED
    rows = session.execute(
        select(Booking.coupon_id, func.count(), func.count().filter(confirmed))
        .where(Booking.coupon_id.in_(coupon_ids), _live(now))
        .group_by(Booking.coupon_id)
    )
    return {coupon_id: (live, sold) for coupon_id, live, sold in rows}


def counts_as_guess(error: CouponError) -> bool:
    return error.code in GUESSES


def record_wrong_code(
    session: Session, *, user_id: int | None, network: str | None, now: datetime
) -> None:
    """Count a code that did not apply (in the caller's own transaction, committed at once)."""
    rate_limit.record(
        session,
        rate_limit.COUPON,
        subject=rate_limit.user_subject(user_id) if user_id is not None else "",
        network=network,
        outcome=AttemptOutcome.FAILED,
        now=now,
    )
