"""An event's payments for its organizer: which providers buyers may pay with, finding a
booking by its reference, and refunding it (chosen tickets, or an amount of money)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from app.db import get_session
from app.domain.base import NotFound
from app.domain.events.models import Event
from app.domain.money import MoneyError
from app.domain.payments import checkout
from app.domain.payments.errors import PaymentError
from app.domain.teams.access import Permission, permissions_on
from app.domain.ticketing import bookings
from app.domain.ticketing.models import Booking
from app.integrations.payments import configured_providers
from app.web.authz import organizer_event_or_404, requires_organizer_or_member, signed_in_user
from app.web.error_status import http_status
from app.web.payments.refund_page import refund_from_form, render_refund_page

bp = Blueprint("organizer_payments", __name__, url_prefix="/organizer/events/<int:event_id>")


def _may_manage(event: Event) -> bool:
    return Permission.MANAGE in permissions_on(get_session(), signed_in_user(), event)


def _page(event: Event, *, status: int = 200, error: str | None = None) -> ResponseReturnValue:
    providers = configured_providers(current_app.config)
    return render_template(
        "organizer/payments.html",
        event=event,
        may_manage=_may_manage(event),
        providers={name: p.label for name, p in providers.items()},
        accepted=checkout.accepted_providers(event.payment_providers, list(providers)),
        error=error,
    ), status


@bp.get("/payments")
@requires_organizer_or_member
def index(event_id: int) -> ResponseReturnValue:
    """Ways of paying, and a booking looked up by reference (`?reference=`)."""
    event = organizer_event_or_404(event_id, need=Permission.VIEW_SALES)
    reference = request.args.get("reference", "").strip()
    if reference:
        try:
            booking = bookings.event_booking(get_session(), event_id=event.id, reference=reference)
        except NotFound as missing:
            return _page(event, status=404, error=missing.message)
        return redirect(url_for(".booking", event_id=event.id, reference=booking.reference))
    return _page(event)


@bp.post("/payments")
@requires_organizer_or_member
def providers(event_id: int) -> ResponseReturnValue:
    event = organizer_event_or_404(event_id)
    session = get_session()
    try:
        checkout.set_accepted_providers(
            session,
            event,
            request.form.getlist("provider"),
            configured=list(configured_providers(current_app.config)),
        )
    except PaymentError as error:
        session.rollback()
        return _page(event, status=http_status(error), error=error.message)
    session.commit()
    flash("Ways of paying saved.", "success")
    return redirect(url_for(".index", event_id=event.id), 303)


def _refund_page(
    event: Event, booking: Booking, *, status: int = 200, error: str | None = None
) -> ResponseReturnValue:
    return render_refund_page(
        get_session(),
        booking,
        back=(url_for(".index", event_id=event.id), f"Payments for {event.title}"),
        refund_url=url_for(".refund", event_id=event.id, reference=booking.reference)
        if _may_manage(event)
        else None,
        status=status,
        error=error,
    )


@bp.get("/bookings/<reference>")
@requires_organizer_or_member
def booking(event_id: int, reference: str) -> ResponseReturnValue:
    event = organizer_event_or_404(event_id, need=Permission.VIEW_SALES)
    found = bookings.event_booking(get_session(), event_id=event.id, reference=reference)
    return _refund_page(event, found)


@bp.post("/bookings/<reference>/refund")
@requires_organizer_or_member
def refund(event_id: int, reference: str) -> ResponseReturnValue:
    """Refund the ticked tickets (their price; they go back on sale), or an amount alone."""
    event = organizer_event_or_404(event_id)
    session = get_session()
    found = bookings.event_booking(session, event_id=event.id, reference=reference)
    try:
        refund_from_form(session, found, actor_id=signed_in_user().id)
    except (PaymentError, MoneyError) as error:
        session.rollback()
        again = bookings.event_booking(session, event_id=event.id, reference=reference)
        return _refund_page(event, again, status=http_status(error), error=error.message)
    session.commit()
    flash("The refund is on its way to the buyer.", "success")
    return redirect(url_for(".booking", event_id=event.id, reference=found.reference), 303)
