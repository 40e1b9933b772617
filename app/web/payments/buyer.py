"""Paying for a held booking: "Pay" sends the buyer to the provider's checkout; the return page
says "confirming your payment" and turns confirmed by itself when the provider's event lands
(a server-sent-event stream woken by the event's NOTIFY); a receipt per payment.

The return page never confirms anything: only a verified provider event does
(`payments.events.apply_event`, reached through /webhooks/<provider>).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import login_required
from sqlalchemy.orm import Session

from app.db import get_db, get_session
from app.domain.base import Busy, utcnow
from app.domain.payments import checkout
from app.domain.payments.errors import PaymentError
from app.domain.payments.events import apply_lookup
from app.domain.ticketing import bookings, holds
from app.domain.ticketing.models import Booking
from app.integrations.payments import configured_providers
from app.integrations.payments.base import ProviderError
from app.live import hub_for
from app.web.account.bookings import own_open_booking, render_booking
from app.web.authz import signed_in_user, verified_email_required
from app.web.error_status import http_status
from app.web.errors import render_error
from app.web.event_stream import Fragment, stream_fragment
from app.web.htmx import full_page_redirect, render_page_or_fragment
from app.web.payments.start import start_checkout

bp = Blueprint("payments", __name__, url_prefix="/account")
log = logging.getLogger(__name__)


@bp.post("/bookings/<reference>/pay")
@login_required
@verified_email_required
def pay(reference: str) -> ResponseReturnValue:
    """Start a payment with the chosen provider and go to its checkout."""
    session = get_session()
    user = signed_in_user()
    booking = bookings.user_booking(session, user_id=user.id, reference=reference)
    try:
        payment, made = start_checkout(
            session, booking, user=user, provider_name=request.form.get("provider", "")
        )
    except PaymentError as error:
        session.rollback()
        return _booking_page(reference, error=error.message, status=http_status(error))
    if made.redirect_url:
        return full_page_redirect(made.redirect_url)
    return _on_page_checkout(booking, payment.id, made.page_data)


# Razorpay's checkout runs on our page: its script and frames come from Razorpay.
ON_PAGE_CSP = (
    "default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' https://checkout.razorpay.com; frame-src https://api.razorpay.com "
    "https://checkout.razorpay.com; connect-src 'self' https://*.razorpay.com; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def _on_page_checkout(
    booking: Booking, payment_id: int, page_data: Mapping[str, object]
) -> ResponseReturnValue:
    page = render_template(
        "payments/on_page_checkout.html",
        booking=booking,
        options=dict(page_data),
        done_url=url_for(".on_page_done", payment_id=payment_id),
    )
    return page, 200, {"Content-Security-Policy": ON_PAGE_CSP}


@bp.post("/payments/<int:payment_id>/paid-on-page")
@login_required
def on_page_done(payment_id: int) -> ResponseReturnValue:
    """What the provider's script hands our page after paying (Razorpay's payment id, order id
    and signature). A valid signature is only a reason to ask the provider at once; what it
    answers goes through the same path as its webhook, which may also arrive first."""
    session = get_session()
    payment = checkout.user_payment(session, user_id=signed_in_user().id, payment_id=payment_id)
    provider = configured_providers(current_app.config).get(payment.provider)
    verify = getattr(provider, "verify_payment_signature", None)
    order_id = request.form.get("razorpay_order_id", "")
    if (
        verify is None
        or order_id != payment.provider_ref
        or not verify(
            order_id,
            request.form.get("razorpay_payment_id", ""),
            request.form.get("razorpay_signature", ""),
        )
    ):
        return render_error(400, "That payment confirmation is not valid.")
    try:
        found = provider.lookup(order_id)
        apply_lookup(session, payment, found, now=utcnow())
        session.commit()
    except (ProviderError, Busy) as error:
        # The webhook (or the reconciliation sweep) still settles it; the page says so.
        session.rollback()
        log.info("lookup after paying on page %s: %s", payment_id, error)
    return redirect(url_for(".status", reference=payment.booking.reference), 303)


def _booking_page(reference: str, *, error: str, status: int) -> ResponseReturnValue:
    booking = bookings.user_booking(get_session(), user_id=signed_in_user().id, reference=reference)
    return render_booking(booking, status=status, error=error)


def _status_of(session: Session, booking: Booking, booking_url: str) -> dict[str, object]:
    """What the status fragment shows of a booking and its latest payment."""
    now = utcnow()
    payments = checkout.booking_payments(session, booking.id)
    remaining = holds.hold_remaining(booking, now)
    return {
        "booking": booking,
        "status": bookings.display_status(booking, now),
        "payment": payments[-1] if payments else None,
        "remaining_seconds": int(remaining.total_seconds()) if remaining else None,
        "booking_url": booking_url,
    }


def _status_context(reference: str) -> dict[str, object]:
    session = get_session()
    booking = own_open_booking(reference)
    booking_url = url_for("account_bookings.detail", reference=booking.reference)
    return _status_of(session, booking, booking_url)


@bp.get("/bookings/<reference>/payment")
@login_required
def status(reference: str) -> ResponseReturnValue:
    """Where the provider sends the buyer back: the payment's state, live until it settles."""
    return render_page_or_fragment(
        "payments/status.html", "payments/_status.html", **_status_context(reference)
    )


@bp.get("/bookings/<reference>/payment/live")
@login_required
def status_stream(reference: str) -> ResponseReturnValue:
    """`payment` events with the status fragment, sent again whenever the event's availability
    notification wakes the stream (a provider event publishes one), until the payment settles."""
    context = _status_context(reference)  # 404 for someone else's booking
    booking = context["booking"]
    event_id, user_id = booking.event_id, booking.user_id  # type: ignore[attr-defined]
    booking_url = str(context["booking_url"])
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    hub = hub_for(app)

    def status() -> Fragment:
        with get_db().session() as session:
            fragment, settled = _render_status(session, user_id, reference, booking_url)
        return Fragment(fragment, last=settled)

    return stream_fragment(app, lambda: hub.subscribe(event_id), "payment", status)


def _render_status(
    session: Session, user_id: int, reference: str, booking_url: str
) -> tuple[str, bool]:
    """The status fragment as the stream sends it (no request here: links come made), and
    whether the booking is settled."""
    booking = bookings.user_booking(session, user_id=user_id, reference=reference)
    context = _status_of(session, booking, booking_url)
    return render_template("payments/_status.html", **context), context["status"] != "pending"


@bp.get("/payments/<int:payment_id>/receipt")
@login_required
def receipt(payment_id: int) -> ResponseReturnValue:
    """What was paid, when, how, and what was refunded of it."""
    payment = checkout.user_payment(
        get_session(), user_id=signed_in_user().id, payment_id=payment_id
    )
    provider = configured_providers(current_app.config).get(payment.provider)
    return render_template(
        "payments/receipt.html",
        provider_label=provider.label if provider else payment.provider.capitalize(),
        payment=payment,
        booking=payment.booking,
        back=url_for("account_bookings.detail", reference=payment.booking.reference),
    )
