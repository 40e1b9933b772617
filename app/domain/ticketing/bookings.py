"""A booking's life after the hold: confirmation, cancellation, and the buyer's history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from app.domain import audit
from app.domain.base import NotFound
from app.domain.checkin.models import CheckIn
from app.domain.events.models import Event
from app.domain.notifications import queue as notifications
from app.domain.ticketing import claims, coupons, holds, sale_gate
from app.domain.ticketing.availability import publish_availability
from app.domain.ticketing.errors import BookingError
from app.domain.ticketing.limits import check_user_limit, live_units
from app.domain.ticketing.locking import lock_booking, lock_user_event
from app.domain.ticketing.models import (
    Booking,
    BookingLine,
    BookingStatus,
    CancellationReason,
    Coupon,
    Ticket,
    TicketStatus,
    TicketTier,
    Unit,
    WaitlistEntry,
    WaitlistStatus,
)
from app.domain.ticketing.seatmap_view import seat_label
from app.domain.ticketing.waitlist import OfferSettings
from app.domain.webhooks import emit as webhooks
from app.observability import metrics


def confirm_booking(
    session: Session, booking: Booking, *, now: datetime, reclaim: bool = True
) -> Booking:
    """Confirm a held booking and issue its tickets (payment received, or a free offer claimed).

    A hold that has run out but was not released yet still owns its units, so it confirms.
    One already released is re-claimed: the same seats, or any free units of its tiers; when
    that is impossible, `hold_expired` is raised and the caller rolls back (and refunds).
    Confirming a confirmed booking again changes nothing. With `reclaim` False an expired
    booking is refused instead. A booking whose hold ran out keeps its coupon only if the code
    has a use left (`coupons.keep_use`; else `coupon_used_up`, and the caller refunds).
    Nothing is confirmed for an event that is no longer on sale
    (cancelled, unpublished or over): `event_not_on_sale`, and the caller refunds.
    """
    # The gate before the booking's row: a cancellation takes them in that order.
    sale_gate.pass_gate(session, booking.event_id)
    locked = lock_booking(session, booking.id)
    if locked.status == BookingStatus.CONFIRMED:
        return locked
    if locked.status in (BookingStatus.CANCELLED, BookingStatus.REFUNDED):
        raise BookingError("booking_closed", "This booking was cancelled and cannot be confirmed.")
    if not sale_gate.is_on_sale(session, locked.event_id, now):
        raise BookingError("event_not_on_sale")
    if locked.status == BookingStatus.EXPIRED:
        if not reclaim:
            raise BookingError("hold_expired")
        _reclaim(session, locked)
    # A hold that ran out gave its coupon's use back: it keeps the discount only if one is left.
    coupons.keep_use(session, locked, now=now)
    locked.status = BookingStatus.CONFIRMED
    metrics.count(session, metrics.BOOKINGS)
    locked.confirmed_at = now
    locked.hold_expires_at = None
    session.flush()
    claims.issue_tickets(session, locked.id, now=now)
    session.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.booking_id == locked.id, WaitlistEntry.status.in_(_OFFER_STATES))
        .values(status=WaitlistStatus.CONVERTED)
    )
    audit.record(session, "booking.confirmed", actor_id=locked.user_id, target=locked, now=now)
    notifications.booking_confirmed(session, booking_id=locked.id, user=locked.user, now=now)
    webhooks.booking_confirmed(session, locked, now=now)
    publish_availability(session, locked.event_id)
    return locked


# An offer that expired but is confirmed by a late payment still counts as converted.
_OFFER_STATES = (WaitlistStatus.OFFERED, WaitlistStatus.EXPIRED)


def _reclaim(session: Session, booking: Booking) -> None:
    """Take units for an expired booking again, all lines or none."""
    unit_ids: list[int] = []
    for line in session.scalars(select(BookingLine).where(BookingLine.booking_id == booking.id)):
        if line.seat_ids:
            got = claims.lock_free_seats(
                session, event_id=booking.event_id, seat_ids=sorted(line.seat_ids)
            )
            if len(got) != len(line.seat_ids):
                raise BookingError("hold_expired", "Your hold expired and the seats were taken.")
        else:
            got = claims.claim_units_of_tier(session, tier_id=line.tier_id, quantity=line.quantity)
            if not got:
                raise BookingError("hold_expired", "Your hold expired and the tickets sold out.")
        unit_ids.extend(got)
    claims.link_units(session, booking.id, unit_ids)


def cancel_booking(
    session: Session,
    booking: Booking,
    *,
    actor_id: int | None,
    now: datetime,
    offers: OfferSettings | None = None,
) -> Booking:
    """Cancel a hold, or a free confirmed booking before its event starts; units go back.

    Paid confirmed bookings are cancelled through a refund (payments), not here.
    """
    locked = lock_booking(session, booking.id)
    was_confirmed = locked.status == BookingStatus.CONFIRMED
    if locked.status == BookingStatus.PENDING:
        pass
    elif was_confirmed:
        if locked.total_minor:
            raise BookingError(
                "not_cancellable", "Paid bookings are cancelled by asking the organizer a refund."
            )
        if locked.event.starts_at <= now:
            raise BookingError("not_cancellable", "The event has started: it is too late.")
        # Check-ins are the record of who came in (app/domain/checkin/scans.py).
        used = session.scalar(
            select(CheckIn.id)
            .join(Ticket, Ticket.id == CheckIn.ticket_id)
            .where(Ticket.booking_id == locked.id, CheckIn.undone_at.is_(None))
            .limit(1)
        )
        if used:
            raise BookingError("not_cancellable", "A ticket of this booking was already used.")
    else:
        raise BookingError("booking_closed", "This booking is already closed.")
    locked.status = BookingStatus.CANCELLED
    locked.cancelled_at = now
    locked.cancellation_reason = CancellationReason.BUYER
    locked.hold_expires_at = None
    session.execute(
        update(Ticket)
        .where(Ticket.booking_id == locked.id, Ticket.status == TicketStatus.VALID)
        .values(status=TicketStatus.VOID)
    )
    session.execute(
        update(WaitlistEntry)
        .where(
            WaitlistEntry.booking_id == locked.id, WaitlistEntry.status == WaitlistStatus.OFFERED
        )
        .values(status=WaitlistStatus.LEFT)
    )
    audit.record(session, "booking.cancelled", actor_id=actor_id, target=locked, now=now)
    if was_confirmed:  # a released hold had no tickets to take back: no mail
        notifications.email_user(
            session,
            kind="booking_cancelled",
            about=("booking", locked.id),
            user=locked.user,
            now=now,
            payload={"booking_id": locked.id},
        )
    session.flush()
    freed = holds.release_units(session, [locked.id])
    holds.after_release(
        session, freed, now=now, offers=offers or OfferSettings(), changed_events=[locked.event_id]
    )
    return locked


def claim_free_booking(session: Session, booking: Booking, *, now: datetime) -> Booking:
    """The buyer claims a held booking that costs nothing (a waitlist offer of a free tier).

    Unlike a payment, a claim after the hold ran out is refused: the units belong to the
    next in line by then.
    """
    if booking.total_minor:
        raise BookingError("booking_closed", "This booking is confirmed by paying for it.")
    if holds.is_expired(booking, now):
        raise BookingError("hold_expired")
    if booking.user_id is not None:
        # The offer counts with what the user got since it was made (another booking, a limit
        # the organizer lowered), under the lock their holds take.
        lock_user_event(session, booking.user_id, booking.event_id)
        for line in booking.lines:
            if line.tier.per_user_limit is None:
                continue
            already = live_units(
                session,
                user_id=booking.user_id,
                event_id=booking.event_id,
                tier_id=line.tier_id,
                now=now,
                except_ids=[booking.id],
            )
            check_user_limit(line.tier, already, line.quantity)
    return confirm_booking(session, booking, now=now, reclaim=False)


def display_status(booking: Booking, now: datetime) -> str:
    """The status a buyer should see: a hold that ran out shows as expired at once."""
    if holds.is_expired(booking, now):
        return BookingStatus.EXPIRED.value
    return booking.status.value


_BOOKING_PAGE = (
    select(Booking)
    .where(Booking.reference == bindparam("reference"), Booking.user_id == bindparam("user_id"))
    .options(
        joinedload(Booking.event).load_only(
            Event.id,
            Event.title,
            Event.slug,
            Event.starts_at,
            Event.ends_at,
            Event.timezone,
            Event.venue_name,
            Event.city,
            # The ticket page and its PDF: the address, or an online event's join link.
            Event.address,
            Event.event_type,
            Event.online_url,
            Event.status,
            Event.cancellation_note,
            Event.payment_providers,
        ),
        joinedload(Booking.lines).joinedload(BookingLine.tier).load_only(TicketTier.name),
        joinedload(Booking.coupon).load_only(Coupon.code),
    )
)


def user_booking(session: Session, *, user_id: int, reference: str) -> Booking:
    """The user's booking with that reference (one query); anyone else's answers NotFound."""
    booking = (
        session.scalars(_BOOKING_PAGE, {"reference": reference.upper(), "user_id": user_id})
        .unique()
        .first()
    )
    if booking is None:
        raise NotFound("We could not find that booking.")
    return booking


def event_booking(session: Session, *, event_id: int | None, reference: str) -> Booking:
    """A booking by its reference: of the event `event_id` (for its organizer; a booking of
    another event answers NotFound), or of any event with None (for admins)."""
    query = select(Booking).where(Booking.reference == reference.strip().upper())
    if event_id is not None:
        query = query.where(Booking.event_id == event_id)
    booking = session.scalars(query).first()
    if booking is None:
        raise NotFound("We could not find that booking.")
    return booking


def open_booking(
    session: Session, *, user_id: int, reference: str, now: datetime, offers: OfferSettings
) -> Booking:
    """The user's booking for its page; a hold that ran out is released on the way (lazily)."""
    booking = user_booking(session, user_id=user_id, reference=reference)
    holds.expire_if_due(session, booking, now=now, offers=offers)
    return booking


def valid_ticket_count(session: Session, booking_id: int) -> int:
    return session.scalar(
        select(func.count())
        .select_from(Ticket)
        .where(Ticket.booking_id == booking_id, Ticket.status == TicketStatus.VALID)
    )


def seat_labels(session: Session, booking: Booking) -> dict[int, list[str]]:
    """The seats each line of the booking is for ("Stalls, Row B seat 9"), by line id; lines
    without chosen seats (general admission) are left out."""
    wanted = {seat_id: line.id for line in booking.lines for seat_id in line.seat_ids or ()}
    if not wanted:
        return {}
    labels: dict[int, list[str]] = {}
    for seat_id, section, row_label, number in session.execute(
        select(Unit.id, Unit.section, Unit.row_label, Unit.seat_number)
        .where(Unit.id.in_(list(wanted)))
        .order_by(Unit.seat_order, Unit.id)
    ):
        labels.setdefault(wanted[seat_id], []).append(seat_label(section, row_label, number))
    return labels


PAST_PAGE_SIZE = 20


@dataclass(frozen=True)
class History:
    upcoming: list[Booking]
    past: list[Booking]  # one page of them, newest first
    waiting: list[WaitlistEntry]
    past_page: int = 1
    more_past: bool = False  # older bookings follow on the next page


def booking_history(
    session: Session, *, user_id: int, now: datetime, past_page: int = 1
) -> History:
    """The user's bookings for events still to come (soonest first), page `past_page` of those
    for events that have ended (`PAST_PAGE_SIZE` a page, newest first), and their queues."""
    past_page = max(1, past_page)
    mine = (
        select(Booking)
        .join(Booking.event)
        .where(Booking.user_id == user_id)
        .options(
            contains_eager(Booking.event),
            selectinload(Booking.lines).joinedload(BookingLine.tier),
        )
    )
    upcoming = session.scalars(
        mine.where(Event.ends_at > now).order_by(Event.starts_at, Booking.id)
    ).all()
    past = session.scalars(
        mine.where(Event.ends_at <= now)
        .order_by(Booking.created_at.desc(), Booking.id.desc())
        .offset((past_page - 1) * PAST_PAGE_SIZE)
        .limit(PAST_PAGE_SIZE + 1)
    ).all()
    waiting = session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.user_id == user_id, WaitlistEntry.status == WaitlistStatus.WAITING)
        .options(joinedload(WaitlistEntry.tier))
        .order_by(WaitlistEntry.created_at)
    ).all()
    return History(
        upcoming=list(upcoming),
        past=list(past[:PAST_PAGE_SIZE]),
        waiting=list(waiting),
        past_page=past_page,
        more_past=len(past) > PAST_PAGE_SIZE,
    )


ADMIN_BOOKINGS = 20


def latest_bookings(
    session: Session, *, user_id: int, limit: int = ADMIN_BOOKINGS
) -> tuple[list[Booking], int]:
    """A user's `limit` newest bookings, any status, with their events, and how many they have
    in all (the admin's view of a user)."""
    rows = session.scalars(
        select(Booking)
        .where(Booking.user_id == user_id)
        .options(joinedload(Booking.event).load_only(Event.id, Event.title, Event.timezone))
        .order_by(Booking.created_at.desc(), Booking.id.desc())
        .limit(limit)
    ).all()
    total = session.scalar(select(func.count()).where(Booking.user_id == user_id)) or 0
    return list(rows), total


def user_bookings_page(
    session: Session, *, user_id: int, before_id: int | None, limit: int
) -> tuple[list[Booking], int | None]:
    """A page of the user's bookings, newest first, from below `before_id` (None: the newest);
    and the id to pass as `before_id` for the next page (None: this is the last)."""
    query = (
        select(Booking)
        .where(Booking.user_id == user_id)
        .options(
            selectinload(Booking.lines).joinedload(BookingLine.tier).load_only(TicketTier.name)
        )
        .order_by(Booking.id.desc())
        .limit(limit + 1)
    )
    if before_id is not None:
        query = query.where(Booking.id < before_id)
    rows = list(session.scalars(query).unique())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, rows[-1].id if more and rows else None


@dataclass(frozen=True)
class SummaryLine:
    tier_id: int
    tier_name: str
    quantity: int
    unit_price_minor: int
    seat_ids: list[int]


def booking_lines(session: Session, booking: Booking) -> list[SummaryLine]:
    """The booking's lines with their tiers' names in one narrow read: what a hold just made
    needs for its answer, without loading its lines and tiers as objects."""
    session.flush()
    rows = session.execute(
        select(
            BookingLine.tier_id,
            TicketTier.name,
            BookingLine.quantity,
            BookingLine.unit_price_minor,
            BookingLine.seat_ids,
        )
        .join(TicketTier, TicketTier.id == BookingLine.tier_id)
        .where(BookingLine.booking_id == booking.id)
        .order_by(BookingLine.id)
    ).all()
    return [SummaryLine(t, name, q, p, list(s or [])) for t, name, q, p, s in rows]
