"""A booking's payments and its refund form, shared by the event's organizer and admins: the
page, and a refund from the form (the ticked tickets, or an amount alone, with a reason)."""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.base import utcnow
from app.domain.money import to_minor
from app.domain.payments import checkout
from app.domain.payments.errors import PaymentError
from app.domain.payments.models import PaymentEvent
from app.domain.payments.refunds import refund_booking, refundable
from app.domain.ticketing import bookings
from app.domain.ticketing.models import Booking, Ticket, TicketTier, Unit
from app.domain.ticketing.seatmap_view import seat_label
from app.web.public.booking import offer_settings

REASON_MAX = 500


def render_refund_page(
    session: Session,
    booking: Booking,
    *,
    back: tuple[str, str],
    refund_url: str | None,
    status: int = 200,
    error: str | None = None,
    provider_events: list[PaymentEvent] | None = None,
) -> tuple[str, int]:
    """The page; `provider_events` (what providers sent about its payments) for admins."""
    page = render_template(
        "payments/booking_refunds.html",
        event=booking.event,
        booking=booking,
        tickets=_tickets(session, booking.id),
        payments=checkout.booking_payments(session, booking.id),
        refundable=refundable(session, booking.id),
        seats=bookings.seat_labels(session, booking),
        back=back,
        refund_url=refund_url,
        error=error,
        reason_max=REASON_MAX,
        provider_events=provider_events,
    )
    return page, status


def _tickets(session: Session, booking_id: int) -> list[tuple[Ticket, str]]:
    """The booking's tickets with what each is for ("Stalls, Row A seat 3", or the tier)."""
    rows = session.execute(
        select(Ticket, Unit.section, Unit.row_label, Unit.seat_number, TicketTier.name)
        .join(Unit, Unit.id == Ticket.unit_id)
        .join(TicketTier, TicketTier.id == Ticket.tier_id)
        .where(Ticket.booking_id == booking_id)
        .order_by(Ticket.id)
    ).all()
    return [
        (ticket, seat_label(section, row, number) if number is not None else tier)
        for ticket, section, row, number, tier in rows
    ]


def refund_from_form(session: Session, booking: Booking, *, actor_id: int) -> None:
    """Refund what the form asks (PaymentError or MoneyError, and nothing changed, if not)."""
    reason = request.form.get("reason", "").strip()
    if not reason or len(reason) > REASON_MAX:
        raise PaymentError("invalid_refund", "Say why, in a few words (for the buyer).")
    try:
        ticket_ids = [int(t) for t in request.form.getlist("ticket")]
    except ValueError:
        raise PaymentError("invalid_refund") from None
    amount_text = request.form.get("amount", "").strip()
    refund_booking(
        session,
        booking,
        ticket_ids=ticket_ids,
        amount_minor=to_minor(amount_text, booking.currency) if amount_text else None,
        reason=reason,
        actor_id=actor_id,
        now=utcnow(),
        offers=offer_settings(),
    )
