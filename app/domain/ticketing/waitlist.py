"""Waitlists: buyers queue for a sold-out tier; freed units are offered to them in order.

An offer is a pending booking holding the units for `OfferSettings.minutes`, plus a message
queued in the same transaction. An offer that runs out expires like any hold, and its units
go to the next in line. Offers are made strictly in joining order: when the first in line
wants more units than are free, nobody behind them is served first.

The per-user limit holds across the queue: joining counts what the user already holds or owns
of the tier, and so does each offer, under the user's lock (`locking`); an entry whose offer
would pass the limit (the user got tickets another way since joining) is closed as left.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, joinedload

from app.domain.accounts.models import User
from app.domain.base import NotFound
from app.domain.events.models import Event, EventStatus
from app.domain.notifications.queue import email_user
from app.domain.ticketing import sale_gate
from app.domain.ticketing.claims import UserLimitReached, claim_general_admission
from app.domain.ticketing.errors import BookingError
from app.domain.ticketing.limits import check_order_size, check_user_limit, live_units
from app.domain.ticketing.locking import lock_tier_waitlist, lock_user_event, try_lock_user_event
from app.domain.ticketing.models import TicketTier, Unit, WaitlistEntry, WaitlistStatus
from app.observability import metrics

ACTIVE = (WaitlistStatus.WAITING, WaitlistStatus.OFFERED)


@dataclass(frozen=True)
class OfferSettings:
    minutes: int = 30


def free_units(session: Session, tier_id: int) -> int:
    return session.scalar(
        select(func.count())
        .select_from(Unit)
        .where(Unit.tier_id == tier_id, Unit.booking_id.is_(None), Unit.blocked.is_(False))
    )


def join_waitlist(
    session: Session,
    *,
    user: User,
    tier: TicketTier,
    quantity: int,
    now: datetime,
    access_code: str | None = None,
) -> WaitlistEntry:
    """Queue `user` for `quantity` units of a sold-out tier (one active entry per tier)."""
    event = tier.event
    if event.status != EventStatus.PUBLISHED or event.ends_at <= now:
        raise BookingError("event_not_on_sale")
    if tier.hidden and (not access_code or access_code.strip() != tier.access_code):
        raise BookingError("hidden_tier")
    if tier.sales_end and now >= tier.sales_end:
        raise BookingError("sales_closed", "Sales for this ticket type have ended.")
    check_order_size(tier, quantity)
    # A queue being closed by a cancellation takes no one; then the join is counted under
    # the lock a hold takes, so a join and the user's holds see each other.
    sale_gate.enter(session, event.id, now)
    lock_user_event(session, user.id, event.id)
    if tier.per_user_limit is not None:
        # The entry will be the user's only active one of the tier (`uq_waitlist_active_user`),
        # so what they hold or own is all there is to count with it.
        already = live_units(session, user_id=user.id, event_id=event.id, tier_id=tier.id, now=now)
        check_user_limit(tier, already, quantity)
    if free_units(session, tier.id) >= quantity:
        raise BookingError("not_sold_out")
    entry_id = session.scalar(
        text(
            "INSERT INTO waitlist_entries (tier_id, user_id, quantity, status, created_at) "
            "VALUES (:tier_id, :user_id, :quantity, 'waiting', :now) "
            "ON CONFLICT (tier_id, user_id) WHERE status IN ('waiting', 'offered') DO NOTHING "
            "RETURNING id"
        ),
        {"tier_id": tier.id, "user_id": user.id, "quantity": quantity, "now": now},
    )
    if entry_id is None:
        raise BookingError("already_waiting")
    entry = session.get(WaitlistEntry, entry_id)
    assert entry is not None
    return entry


def join_waitlist_by_id(
    session: Session,
    *,
    user: User,
    event_id: int,
    tier_id: int,
    quantity: int,
    now: datetime,
    access_code: str | None = None,
) -> WaitlistEntry:
    """`join_waitlist` for a tier named by id in a form; another event's tier is refused."""
    tier = session.get(TicketTier, tier_id)
    if tier is None or tier.event_id != event_id:
        raise BookingError("invalid_tier")
    return join_waitlist(
        session, user=user, tier=tier, quantity=quantity, now=now, access_code=access_code
    )


def leave_waitlist(session: Session, *, user: User, entry_id: int) -> WaitlistEntry:
    """Leave a queue one is waiting in (an offer already made is declined by cancelling it)."""
    entry = session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.id == entry_id, WaitlistEntry.user_id == user.id)
        .with_for_update()
    ).first()
    if entry is None:  # someone else's, or none at all: nothing tells them apart
        raise NotFound("That waitlist place was not found.")
    if entry.status != WaitlistStatus.WAITING:
        raise BookingError("booking_closed", "You are no longer waiting in this queue.")
    entry.status = WaitlistStatus.LEFT
    session.flush()
    return entry


def make_offers(session: Session, tier_id: int, *, now: datetime, settings: OfferSettings) -> int:
    """Offer the tier's free units to the people waiting, in order; return offers made.

    None while the event is being taken off sale (a cancellation closes its queues) or once it
    is off sale or over: callers releasing units already hold rows a cancellation waits for, so
    this never waits at the event's sale gate (`sale_gate.try_enter`).
    """
    lock_tier_waitlist(session, tier_id)
    waiting = session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.tier_id == tier_id, WaitlistEntry.status == WaitlistStatus.WAITING)
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    if not waiting:
        return 0
    tier = session.get(TicketTier, tier_id)
    assert tier is not None
    if not sale_gate.try_enter(session, tier.event_id, now):
        return 0
    made = 0
    expires_at = now + timedelta(minutes=settings.minutes)
    for entry in waiting:
        if entry.user_id is None:  # the account was deleted meanwhile
            entry.status = WaitlistStatus.LEFT
            continue
        # The user's limit is counted under their lock. Their own request may hold it while it
        # waits for this tier's offer lock (releasing an expired hold on its way): never wait
        # for them; they are first in line, so the next sweep offers again.
        if not try_lock_user_event(session, entry.user_id, tier.event_id):
            break
        try:
            booking = claim_general_admission(
                session,
                user_id=entry.user_id,
                event_id=tier.event_id,
                tier_id=tier.id,
                quantity=entry.quantity,
                unit_price_minor=tier.price_minor,
                currency=tier.currency,
                now=now,
                hold_expires_at=expires_at,
                per_user_limit=tier.per_user_limit,
                rules=None,  # an offer is not the user's doing: the hoarding rules do not apply
            )
        except UserLimitReached:
            # Used up: since joining, the user got tickets of the tier another way, and the
            # offer would take them past the limit.
            entry.status = WaitlistStatus.LEFT
            continue
        if booking is None:
            break
        entry.status = WaitlistStatus.OFFERED
        entry.booking_id = booking.id
        entry.offered_at = now
        entry.offer_expires_at = expires_at
        _queue_offer_email(session, entry, tier, booking.id, now)
        made += 1
    session.flush()
    metrics.count(session, metrics.WAITLIST_OFFERS, made)
    return made


def _queue_offer_email(
    session: Session, entry: WaitlistEntry, tier: TicketTier, booking_id: int, now: datetime
) -> None:
    email_user(
        session,
        kind="waitlist_offer",
        about=("booking", booking_id),
        user=session.get(User, entry.user_id),
        now=now,
        payload={"booking_id": booking_id, "event_id": tier.event_id, "tier_id": tier.id},
    )


def advance_all(session: Session, *, now: datetime, settings: OfferSettings) -> int:
    """Offer free units on every tier that has people waiting, of events still on sale (not
    cancelled, not over); return offers made."""
    tier_ids = session.scalars(
        select(WaitlistEntry.tier_id)
        .join(TicketTier, TicketTier.id == WaitlistEntry.tier_id)
        .join(Event, Event.id == TicketTier.event_id)
        .where(
            WaitlistEntry.status == WaitlistStatus.WAITING,
            Event.status == EventStatus.PUBLISHED,
            Event.ends_at > now,
        )
        .distinct()
        .order_by(WaitlistEntry.tier_id)
    ).all()
    return sum(make_offers(session, tier_id, now=now, settings=settings) for tier_id in tier_ids)


@dataclass
class TierWaitlist:
    tier: TicketTier
    entries: list[WaitlistEntry] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def waiting_units(self) -> int:
        return sum(e.quantity for e in self.entries if e.status == WaitlistStatus.WAITING)

    @property
    def conversion_rate(self) -> float | None:
        """Converted offers over offers that ended (converted or expired)."""
        decided = self.counts[WaitlistStatus.CONVERTED] + self.counts[WaitlistStatus.EXPIRED]
        return self.counts[WaitlistStatus.CONVERTED] / decided if decided else None


def event_waitlists(session: Session, event: Event) -> list[TierWaitlist]:
    """Every tier of the event with its queue (in order) and outcome counts, for organizers."""
    tiers = session.scalars(
        select(TicketTier)
        .where(TicketTier.event_id == event.id)
        .order_by(TicketTier.position, TicketTier.id)
    ).all()
    by_tier = {tier.id: TierWaitlist(tier) for tier in tiers}
    entries = session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.tier_id.in_(list(by_tier)))
        .options(joinedload(WaitlistEntry.user))
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    ).all()
    for entry in entries:
        summary = by_tier[entry.tier_id]
        summary.entries.append(entry)
        summary.counts[entry.status] += 1
    return list(by_tier.values())
