"""Organizers' coupons: create, edit, deactivate, and list them with their uses.

An edit changes what later applications get; a booking that carries the coupon keeps the
discount it got (its `discount_minor`), and a running hold keeps its use even when `max_uses`
goes below the uses there are (`coupons` module docstring). A coupon is never deleted once made
(bookings point at it): deactivating it stops new uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.domain import audit
from app.domain.events.models import Event
from app.domain.ticketing.coupons import MAX_CODE, normal_code
from app.domain.ticketing.errors import CouponError
from app.domain.ticketing.locking import busy_on_lock_timeout
from app.domain.ticketing.models import Coupon, CouponKind, TicketTier

MIN_CODE = 3
CODE_PATTERN = re.compile(rf"[A-Z0-9][A-Z0-9_-]{{{MIN_CODE - 1},{MAX_CODE - 1}}}")
MAX_AMOUNT_MINOR = 2**31 - 1
MAX_MIN_QUANTITY = 100
MAX_USES = 1_000_000


@dataclass(frozen=True)
class CouponData:
    code: str
    kind: CouponKind
    percent_off: int | None = None
    amount_off_minor: int | None = None
    tier_ids: list[int] | None = None  # None: every tier of the event
    max_uses: int | None = None
    max_uses_per_user: int | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    min_quantity: int = 1
    active: bool = True


def _invalid(message: str) -> CouponError:
    return CouponError("invalid_coupon", message)


def _checked(session: Session, event: Event, data: CouponData) -> CouponData:
    """`data` made canonical (code upper-case, tiers sorted), or `invalid_coupon`."""
    code = normal_code(data.code)
    if not CODE_PATTERN.fullmatch(code):
        raise _invalid(
            f"A code has {MIN_CODE} to {MAX_CODE} letters, digits, dashes or underscores."
        )
    percent, amount = data.percent_off, data.amount_off_minor
    if data.kind == CouponKind.PERCENT:
        if percent is None or not 1 <= percent <= 100:
            raise _invalid("A percentage off is a whole number from 1 to 100.")
        amount = None
    else:
        if amount is None or not 0 < amount <= MAX_AMOUNT_MINOR:
            raise _invalid("Enter the amount off, more than zero.")
        percent = None
    tier_ids = None
    if data.tier_ids:
        tier_ids = sorted(set(data.tier_ids))
        found = session.scalars(
            select(TicketTier.id).where(
                TicketTier.id.in_(tier_ids), TicketTier.event_id == event.id
            )
        ).all()
        if len(found) != len(tier_ids):
            raise _invalid("Choose ticket types of this event.")
    for limit in (data.max_uses, data.max_uses_per_user):
        if limit is not None and not 1 <= limit <= MAX_USES:
            raise _invalid("Uses are at least 1 (leave empty for no limit).")
    if not 1 <= data.min_quantity <= MAX_MIN_QUANTITY:
        raise _invalid(f"The minimum number of tickets is 1 to {MAX_MIN_QUANTITY}.")
    if data.valid_from and data.valid_until and data.valid_until <= data.valid_from:
        raise _invalid("The code must end after it starts.")
    return CouponData(
        code=code,
        kind=data.kind,
        percent_off=percent,
        amount_off_minor=amount,
        tier_ids=tier_ids,
        max_uses=data.max_uses,
        max_uses_per_user=data.max_uses_per_user,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
        min_quantity=data.min_quantity,
        active=data.active,
    )


def _save(session: Session, coupon: Coupon, data: CouponData) -> None:
    """Write `data` to the coupon. A code the event already has is `code_taken`: the unique
    index decides (two tabs saving one code at once cannot both win), inside a savepoint, so
    the refused change is undone and the session stays usable."""
    try:
        with session.begin_nested():
            for name in CouponData.__dataclass_fields__:
                setattr(coupon, name, getattr(data, name))
            session.add(coupon)
            session.flush()
    except IntegrityError as exc:
        if "uq_coupons_event_id_code" in str(exc.orig):
            raise CouponError("code_taken") from exc
        raise


def create_coupon(
    session: Session, *, event: Event, data: CouponData, actor_id: int | None, now: datetime
) -> Coupon:
    """A new coupon for `event`; a fixed amount is in the event's currency."""
    checked = _checked(session, event, data)
    coupon = Coupon(event_id=event.id, currency=event.currency, created_at=now)
    _save(session, coupon, checked)
    audit.record(
        session, "coupon.created", actor_id=actor_id, target=coupon, now=now, code=coupon.code
    )
    return coupon


def _lock(session: Session, coupon: Coupon) -> Coupon:
    """The coupon under its row lock: an edit waits for applications in flight, and they for it."""
    with busy_on_lock_timeout():
        return session.scalars(
            select(Coupon)
            .where(Coupon.id == coupon.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()


def update_coupon(
    session: Session, *, coupon: Coupon, data: CouponData, actor_id: int | None, now: datetime
) -> Coupon:
    locked = _lock(session, coupon)
    checked = _checked(session, locked.event, data)
    _save(session, locked, checked)
    audit.record(
        session, "coupon.updated", actor_id=actor_id, target=locked, now=now, code=locked.code
    )
    return locked


def deactivate_coupon(
    session: Session, *, coupon: Coupon, actor_id: int | None, now: datetime
) -> Coupon:
    """No new uses; bookings that carry it keep their discount."""
    locked = _lock(session, coupon)
    if locked.active:
        locked.active = False
        session.flush()
        audit.record(
            session,
            "coupon.deactivated",
            actor_id=actor_id,
            target=locked,
            now=now,
            code=locked.code,
        )
    return locked


def event_coupons(session: Session, event_id: int) -> list[Coupon]:
    """The event's coupons, newest first."""
    return list(
        session.scalars(
            select(Coupon).where(Coupon.event_id == event_id).order_by(Coupon.id.desc())
        )
    )
