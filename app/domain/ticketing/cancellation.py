"""What cancelling an event does to its sales: every hold and confirmed booking is cancelled,
their tickets voided and units released, and its waitlists are closed.

Runs inside `events.lifecycle.cancel_event`, which has locked the event's sale gate
exclusively first (`sale_gate.close`): no sale is in flight, and none starts until the
cancellation has committed, after which every path refuses the event.

Refunds: paid bookings that were confirmed are listed in `CancelledSales.refund_due` (and in
the audit entry of the cancellation); they are the ones the payments area refunds. A paid hold
had taken no money yet; a payment that still arrives for one finds the booking cancelled
(`confirm_booking` refuses it) and must be refunded by the payments area like any payment it
cannot confirm.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.audit import AuditEntry
from app.domain.ticketing.availability import publish_availability
from app.domain.ticketing.holds import release_units
from app.domain.ticketing.models import (
    Booking,
    BookingStatus,
    CancellationReason,
    Ticket,
    TicketStatus,
    TicketTier,
    WaitlistEntry,
    WaitlistStatus,
)

_LIVE = (BookingStatus.PENDING, BookingStatus.CONFIRMED)
_QUEUED = (WaitlistStatus.WAITING, WaitlistStatus.OFFERED)


@dataclass
class AffectedPerson:
    """Someone to tell, once, about the cancellation."""

    user_id: int
    email: str
    name: str
    references: list[str] = field(default_factory=list)  # their cancelled bookings
    refunded: bool = False  # some of those were paid for
    waitlisted: bool = False  # they were waiting for tickets


@dataclass(frozen=True)
class CancelledSales:
    bookings: int  # holds and confirmed bookings cancelled
    refund_due: list[int]  # ids of the paid, confirmed bookings among them
    waitlist_closed: int  # waitlist places closed
    people: list[AffectedPerson]  # living accounts among their owners, one each


def cancel_sales(
    session: Session, event_id: int, *, actor_id: int | None, now: datetime
) -> CancelledSales:
    """Cancel every live booking of the event and close its waitlists (see the module)."""
    bookings = session.execute(
        select(Booking.id, Booking.user_id, Booking.reference, Booking.status, Booking.total_minor)
        .where(Booking.event_id == event_id, Booking.status.in_(_LIVE))
        .order_by(Booking.id)
        .with_for_update()
    ).all()
    ids = [b.id for b in bookings]
    if ids:
        session.execute(
            update(Booking)
            .where(Booking.id.in_(ids))
            .values(
                status=BookingStatus.CANCELLED,
                cancelled_at=now,
                cancellation_reason=CancellationReason.EVENT_CANCELLED,
                hold_expires_at=None,
            )
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(Ticket)
            .where(Ticket.booking_id.in_(ids), Ticket.status == TicketStatus.VALID)
            .values(status=TicketStatus.VOID)
            .execution_options(synchronize_session=False)
        )
        release_units(session, ids)
        session.execute(
            insert(AuditEntry),
            [
                {
                    "action": "booking.cancelled",
                    "actor_id": actor_id,
                    "target_type": Booking.__tablename__,
                    "target_id": booking_id,
                    "data": {"reason": CancellationReason.EVENT_CANCELLED.value},
                    "created_at": now,
                }
                for booking_id in ids
            ],
        )
    closed = session.execute(
        update(WaitlistEntry)
        .where(
            WaitlistEntry.tier_id.in_(select(TicketTier.id).where(TicketTier.event_id == event_id)),
            WaitlistEntry.status.in_(_QUEUED),
        )
        .values(status=WaitlistStatus.CLOSED)
        .returning(WaitlistEntry.user_id)
        .execution_options(synchronize_session=False)
    ).all()
    refund_due = [
        b.id for b in bookings if b.status == BookingStatus.CONFIRMED and b.total_minor > 0
    ]
    people = _people(session, bookings, [user_id for (user_id,) in closed], refund_due)
    publish_availability(session, event_id)
    return CancelledSales(
        bookings=len(ids), refund_due=refund_due, waitlist_closed=len(closed), people=people
    )


def _people(
    session: Session, bookings: list, waitlisted: list[int | None], refund_due: list[int]
) -> list[AffectedPerson]:
    by_user: dict[int, list] = defaultdict(list)
    for booking in bookings:
        if booking.user_id is not None:
            by_user[booking.user_id].append(booking)
    waiting = {user_id for user_id in waitlisted if user_id is not None}
    users = session.scalars(
        select(User)
        .where(User.id.in_(set(by_user) | waiting), User.deleted_at.is_(None))
        .order_by(User.id)
    )
    paid = set(refund_due)
    return [
        AffectedPerson(
            user_id=user.id,
            email=user.email,
            name=user.name,
            references=[b.reference for b in by_user.get(user.id, [])],
            refunded=any(b.id in paid for b in by_user.get(user.id, [])),
            waitlisted=user.id in waiting,
        )
        for user in users
    ]
