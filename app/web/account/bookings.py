"""The buyer's bookings: history, a booking's page (with its hold countdown), cancel, claim,
and leaving a waitlist."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from app.db import get_session
from app.domain.base import utcnow
from app.domain.payments.checkout import booking_payments
from app.domain.ticketing import bookings, holds
from app.domain.ticketing.errors import BookingError
from app.domain.ticketing.models import Booking
from app.domain.ticketing.waitlist import leave_waitlist
from app.web import content_security_policy
from app.web.authz import signed_in_user
from app.web.error_status import http_status
from app.web.htmx import render_page_or_fragment
from app.web.payments.choices import checkout_origins, providers_for
from app.web.public.booking import offer_settings

bp = Blueprint("account_bookings", __name__, url_prefix="/account")


@bp.get("/bookings")
@login_required
def index() -> ResponseReturnValue:
    """Upcoming and past bookings (`?page=` pages through the past), and one's waitlists."""
    now = utcnow()
    history = bookings.booking_history(
        get_session(),
        user_id=signed_in_user().id,
        now=now,
        past_page=request.args.get("page", 1, type=int),
    )
    return render_template(
        "account/bookings.html",
        history=history,
        now=now,
        status_of=bookings.display_status,
    )


def render_booking(
    booking: Booking,
    *,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
    coupon_error: str | None = None,
    coupon_code: str | None = None,
) -> ResponseReturnValue:
    """The booking's page (its fragment for htmx): status, hold countdown, its coupon code
    while it is held (`coupon_error` and the `coupon_code` typed after a refusal), ways of
    paying, its payments and refunds."""
    now = utcnow()
    remaining = holds.hold_remaining(booking, now)
    providers = providers_for(booking.event.payment_providers)
    paid_for = booking.total_minor or booking.discount_minor
    payments = booking_payments(get_session(), booking.id) if paid_for else []
    refunded = any(p.refunds for p in payments)
    page = render_page_or_fragment(
        "account/booking_detail.html",
        "account/_booking_detail.html",
        booking=booking,
        seats=bookings.seat_labels(get_session(), booking),
        payments=payments,
        # Tickets refunded one by one leave fewer valid ones than were booked.
        valid_tickets=bookings.valid_ticket_count(get_session(), booking.id) if refunded else None,
        providers=providers,
        status=bookings.display_status(booking, now),
        remaining_seconds=int(remaining.total_seconds()) if remaining else None,
        now_utc=now,
        error=error,
        notice=notice,
        coupon_error=coupon_error,
        coupon_code=coupon_code,
    )
    csp = content_security_policy(*checkout_origins(providers.values()))
    return page, status, {"Content-Security-Policy": csp}


def own_open_booking(reference: str) -> Booking:
    """The signed-in buyer's booking `reference` (a hold that ran out is released on the
    way); anyone else's is "not found"."""
    return bookings.open_booking(
        get_session(),
        user_id=signed_in_user().id,
        reference=reference,
        now=utcnow(),
        offers=offer_settings(),
    )


@bp.get("/bookings/<reference>")
@login_required
def detail(reference: str) -> ResponseReturnValue:
    """One booking: what it is for, its status and, while held, the time left."""
    return render_booking(own_open_booking(reference))


def _act(reference: str, action: str) -> ResponseReturnValue:
    session = get_session()
    user_id = signed_in_user().id
    booking = bookings.user_booking(session, user_id=user_id, reference=reference)
    try:
        if action == "cancel":
            bookings.cancel_booking(
                session,
                booking,
                actor_id=user_id,
                now=utcnow(),
                offers=offer_settings(),
            )
            flash(f"Booking {booking.reference} is cancelled.", "success")
        else:
            bookings.claim_free_booking(session, booking, now=utcnow())
            flash(f"Booking {booking.reference} is confirmed. Enjoy the event!", "success")
    except BookingError as error:
        session.rollback()
        return render_booking(
            bookings.user_booking(session, user_id=user_id, reference=reference),
            status=http_status(error),
            error=error.message,
        )
    return redirect(url_for(".detail", reference=booking.reference), 303)


@bp.post("/bookings/<reference>/cancel")
@login_required
def cancel(reference: str) -> ResponseReturnValue:
    """Cancel a hold, or a free booking before the event."""
    return _act(reference, "cancel")


@bp.post("/bookings/<reference>/claim")
@login_required
def claim(reference: str) -> ResponseReturnValue:
    """Confirm a free booking held for you (a waitlist offer)."""
    return _act(reference, "claim")


@bp.post("/waitlist/<int:entry_id>/leave")
@login_required
def leave(entry_id: int) -> ResponseReturnValue:
    """Leave a waitlist (the global CSRF check guards every POST)."""
    try:
        leave_waitlist(get_session(), user=signed_in_user(), entry_id=entry_id)
        flash("You left the waitlist.", "success")
    except BookingError as error:
        flash(error.message, "error")
    return redirect(url_for(".index") + "#waitlist", 303)
