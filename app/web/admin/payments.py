"""Admin: payments searched by booking reference, buyer email or provider id; any booking with
its payments and the providers' events about them, and refunds (as its organizer can)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from app.db import get_session
from app.domain.accounts.models import Role
from app.domain.backoffice import payment_search
from app.domain.base import NotFound
from app.domain.money import MoneyError
from app.domain.payments.errors import PaymentError
from app.domain.ticketing import bookings
from app.domain.ticketing.models import Booking
from app.web.authz import requires_role, signed_in_user
from app.web.error_status import http_status
from app.web.payments.refund_page import refund_from_form, render_refund_page

bp = Blueprint("admin_payments", __name__, url_prefix="/admin")


@bp.get("/bookings")
@requires_role(Role.ADMIN)
def find() -> ResponseReturnValue:
    """Search payments (`?q=`), or open a booking by its reference (`?reference=`)."""
    session = get_session()
    reference = request.args.get("reference", "").strip()[:32]
    if reference:
        try:
            found = bookings.event_booking(session, event_id=None, reference=reference)
        except NotFound as missing:
            return _search_page(error=missing.message, status=404)
        return redirect(url_for(".booking", reference=found.reference))
    try:
        search = payment_search.parse_search(request.args)
    except payment_search.BadPaymentSearch as bad:
        return _search_page(error=bad.message, status=http_status(bad))
    return _search_page(search=search, hits=payment_search.search_payments(session, search))


def _search_page(
    *,
    search: payment_search.PaymentSearch | None = None,
    hits: payment_search.PaymentHits | None = None,
    error: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    return render_template(
        "admin/bookings.html",
        search=search or payment_search.PaymentSearch(request.args.get("q", "")[:255]),
        hits=hits,
        error=error,
        max_query=payment_search.MAX_QUERY,
    ), status


def _page(booking: Booking, *, status: int = 200, error: str | None = None) -> ResponseReturnValue:
    return render_refund_page(
        get_session(),
        booking,
        back=(url_for(".find"), "Payments"),
        refund_url=url_for(".refund", reference=booking.reference),
        provider_events=payment_search.provider_events(get_session(), booking.id),
        status=status,
        error=error,
    )


@bp.get("/bookings/<reference>")
@requires_role(Role.ADMIN)
def booking(reference: str) -> ResponseReturnValue:
    return _page(bookings.event_booking(get_session(), event_id=None, reference=reference))


@bp.post("/bookings/<reference>/refund")
@requires_role(Role.ADMIN)
def refund(reference: str) -> ResponseReturnValue:
    session = get_session()
    found = bookings.event_booking(session, event_id=None, reference=reference)
    try:
        refund_from_form(session, found, actor_id=signed_in_user().id)
    except (PaymentError, MoneyError) as error:
        session.rollback()
        again = bookings.event_booking(session, event_id=None, reference=reference)
        return _page(again, status=http_status(error), error=error.message)
    session.commit()
    flash("The refund is on its way to the buyer.", "success")
    return redirect(url_for(".booking", reference=found.reference), 303)
