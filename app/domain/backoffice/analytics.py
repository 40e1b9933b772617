"""An event's sales analytics for its organizer, each figure one SQL aggregate over the
event's rows, reached through indexes (`bookings.event_id`, `booking_lines.tier_id`,
`payments.booking_id`, `coupons`, `ticket_tiers.event_id`, the partial `tickets` index of valid
tickets per tier, `check_ins (event_id, tier_id, gate)`); the plans are checked in
tests/domain/test_backoffice_analytics_plan.py, so no index was added.

What the figures mean:
- A ticket is *sold* on the day its booking was confirmed (in the event's time zone), and
  stays counted that day when it is refunded later: refunds are their own figure.
- *Gross* is what buyers were charged: the payments that went through, after the coupon
  discounts applied to them. *Refunds* is what was given back or is being given back (a
  refund the provider refused returns to the gross). *Net* is gross less refunds.
- *Discounts* are what coupons took off confirmed bookings (not part of gross).
- A coupon's *use* is a confirmed booking with it.
- Waitlist *conversion* is converted offers over offers that ended (converted or expired),
  as on the waitlist page.
- The *check-in rate* of a tier is its tickets admitted (a live check-in, not undone) over
  its valid tickets (refunded and cancelled ones are void).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.checkin.models import CheckIn
from app.domain.events.models import Event
from app.domain.payments.models import Payment, PaymentStatus
from app.domain.ticketing.models import (
    Booking,
    BookingLine,
    Coupon,
    Ticket,
    TicketStatus,
    TicketTier,
    WaitlistEntry,
    WaitlistStatus,
)

MAX_DAYS = 366  # a longer sale shows its last year of days


@dataclass(frozen=True)
class Money:
    currency: str
    gross: int = 0
    refunds: int = 0
    discounts: int = 0

    @property
    def net(self) -> int:
        return self.gross - self.refunds


@dataclass(frozen=True)
class CouponUse:
    code: str
    currency: str
    uses: int
    discount: int


@dataclass(frozen=True)
class Waitlist:
    joined: int = 0
    waiting: int = 0
    offered: int = 0
    converted: int = 0
    expired: int = 0

    @property
    def conversion(self) -> int | None:
        """Converted offers over offers that ended, in whole percent (None: none ended)."""
        decided = self.converted + self.expired
        return round(100 * self.converted / decided) if decided else None


@dataclass(frozen=True)
class TierCheckIns:
    name: str
    tickets: int
    checked_in: int

    @property
    def rate(self) -> int:
        return round(100 * self.checked_in / self.tickets) if self.tickets else 0


@dataclass
class EventAnalytics:
    timezone: str
    tiers: list[tuple[int, str]]  # (id, name) in the event's order
    days: list[date] = field(default_factory=list)
    sold_by_day: dict[int, list[int]] = field(default_factory=dict)  # tier id -> per day
    days_cut: bool = False  # the sale is longer than MAX_DAYS: its first days are left out
    money: list[Money] = field(default_factory=list)
    coupons: list[CouponUse] = field(default_factory=list)
    waitlist: Waitlist = field(default_factory=Waitlist)
    check_ins_by_tier: list[TierCheckIns] = field(default_factory=list)
    check_ins_by_gate: list[tuple[str, int]] = field(default_factory=list)

    @property
    def sold(self) -> int:
        return sum(sum(per_day) for per_day in self.sold_by_day.values())

    @property
    def tickets(self) -> int:
        return sum(t.tickets for t in self.check_ins_by_tier)

    @property
    def checked_in(self) -> int:
        return sum(t.checked_in for t in self.check_ins_by_tier)


def event_analytics(session: Session, event: Event) -> EventAnalytics:
    """Every figure of the event's analytics page (seven aggregate queries)."""
    tiers = [
        (tier_id, name)
        for tier_id, name in session.execute(
            select(TicketTier.id, TicketTier.name)
            .where(TicketTier.event_id == event.id)
            .order_by(TicketTier.position, TicketTier.id)
        )
    ]
    figures = EventAnalytics(timezone=event.timezone, tiers=tiers)
    _sales_by_day(session, event, figures)
    figures.money = _money(session, event.id)
    figures.coupons = _coupons(session, event.id)
    figures.waitlist = _waitlist(session, event.id)
    _check_ins(session, event.id, figures)
    return figures


def _sales_by_day(session: Session, event: Event, figures: EventAnalytics) -> None:
    day = func.date(func.timezone(event.timezone, Booking.confirmed_at))
    # Both sides are narrowed to the event through their own index (the lines by their
    # tiers), so the join never reads every booking line of the site.
    rows = session.execute(
        select(day, BookingLine.tier_id, func.sum(BookingLine.quantity))
        .join(BookingLine, BookingLine.booking_id == Booking.id)
        .where(
            Booking.event_id == event.id,
            Booking.confirmed_at.is_not(None),
            BookingLine.tier_id.in_([tier_id for tier_id, _ in figures.tiers]),
        )
        .group_by(day, BookingLine.tier_id)
    ).all()
    if not rows:
        return
    last = max(row[0] for row in rows)
    first = min(row[0] for row in rows)
    if (last - first).days >= MAX_DAYS:
        first, figures.days_cut = last - timedelta(days=MAX_DAYS - 1), True
    figures.days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    figures.sold_by_day = {tier_id: [0] * len(figures.days) for tier_id, _ in figures.tiers}
    for on, tier_id, quantity in rows:
        if on >= first and tier_id in figures.sold_by_day:
            figures.sold_by_day[tier_id][(on - first).days] += int(quantity)


def _money(session: Session, event_id: int) -> list[Money]:
    charged = session.execute(
        select(Payment.currency, func.sum(Payment.amount_minor), func.sum(Payment.refunded_minor))
        .join(Booking, Booking.id == Payment.booking_id)
        .where(
            Booking.event_id == event_id,
            Payment.status.in_([PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED]),
        )
        .group_by(Payment.currency)
    ).all()
    discounted = session.execute(
        select(Booking.currency, func.sum(Booking.discount_minor))
        .where(
            Booking.event_id == event_id,
            Booking.confirmed_at.is_not(None),
            Booking.discount_minor > 0,
        )
        .group_by(Booking.currency)
    ).all()
    by_currency: dict[str, dict[str, int]] = defaultdict(dict)
    for currency, gross, refunds in charged:
        by_currency[currency].update(gross=int(gross), refunds=int(refunds))
    for currency, discounts in discounted:
        by_currency[currency]["discounts"] = int(discounts)
    return [Money(currency, **values) for currency, values in sorted(by_currency.items())]


def _coupons(session: Session, event_id: int) -> list[CouponUse]:
    used = (Booking.coupon_id == Coupon.id) & Booking.confirmed_at.is_not(None)
    rows = session.execute(
        select(
            Coupon.code,
            Coupon.currency,
            func.count(Booking.id),
            func.coalesce(func.sum(Booking.discount_minor), 0),
        )
        .outerjoin(Booking, used)
        .where(Coupon.event_id == event_id)
        .group_by(Coupon.id)
        .order_by(Coupon.code)
    )
    return [CouponUse(code, currency, uses, int(total)) for code, currency, uses, total in rows]


def _waitlist(session: Session, event_id: int) -> Waitlist:
    status = WaitlistEntry.status
    row = session.execute(
        select(
            func.count(),
            func.count().filter(status == WaitlistStatus.WAITING),
            func.count().filter(WaitlistEntry.offered_at.is_not(None)),
            func.count().filter(status == WaitlistStatus.CONVERTED),
            func.count().filter(status == WaitlistStatus.EXPIRED),
        )
        .join(TicketTier, TicketTier.id == WaitlistEntry.tier_id)
        .where(TicketTier.event_id == event_id)
    ).one()
    return Waitlist(*row)


def _check_ins(session: Session, event_id: int, figures: EventAnalytics) -> None:
    # The tickets a door expects, as the door counts them (`checkin.door`): valid ones (an
    # admission is its check-in row; the ticket stays valid), read from their partial index.
    tickets = dict(
        session.execute(
            select(Ticket.tier_id, func.count())
            .where(
                Ticket.tier_id.in_([tier_id for tier_id, _ in figures.tiers]),
                Ticket.status == TicketStatus.VALID,
            )
            .group_by(Ticket.tier_id)
        ).all()
    )
    by_tier: dict[int, int] = defaultdict(int)
    by_gate: dict[str, int] = defaultdict(int)
    for tier_id, gate, count in session.execute(
        select(CheckIn.tier_id, CheckIn.gate, func.count())
        .where(CheckIn.event_id == event_id, CheckIn.undone_at.is_(None))
        .group_by(CheckIn.tier_id, CheckIn.gate)
    ):
        by_tier[tier_id] += count
        by_gate[gate] += count
    figures.check_ins_by_tier = [
        TierCheckIns(name, tickets.get(tier_id, 0), by_tier[tier_id])
        for tier_id, name in figures.tiers
    ]
    figures.check_ins_by_gate = sorted(by_gate.items(), key=lambda item: (-item[1], item[0]))
