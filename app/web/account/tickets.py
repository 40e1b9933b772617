"""The buyer's tickets: the ticket page (phone first, a QR per ticket, kept for offline use by a
small service worker), the PDF, the calendar file, and a guest's name on a ticket.

Someone else's booking or ticket is a 404 and changes nothing. A booking that is held, ran out
or was cancelled has no tickets: its ticket page says so, its PDF and calendar file are 404s.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import login_required
from wtforms import StringField
from wtforms.validators import Length

from app.db import get_session
from app.domain.base import Busy, NotFound, utcnow
from app.domain.ticketing import bookings
from app.domain.ticketing.models import Booking, BookingStatus
from app.domain.tickets import guests, wallet
from app.domain.tickets.calendar import booking_to_ics
from app.domain.tickets.errors import EventAlreadyStarted, InvalidGuestName, TicketNotNameable
from app.domain.tickets.pdf import tickets_pdf
from app.domain.tickets.qr import qr_svg
from app.web.account.bookings import own_open_booking
from app.web.authz import signed_in_user
from app.web.error_status import http_status
from app.web.forms import AppForm
from app.web.htmx import full_page_redirect, wants_fragment
from app.web.links import absolute_url

bp = Blueprint("account_tickets", __name__, url_prefix="/account/bookings")

# The service worker's URL sets its scope: it may control pages under /account/bookings/ only.
SERVICE_WORKER = "js/tickets-sw.js"


class GuestNameForm(AppForm):
    class Meta:
        csrf = False  # CSRFProtect has checked every POST's token before the view runs

    name = StringField(
        "Name on this ticket",
        validators=[
            Length(
                max=guests.MAX_NAME,
                message=f"Use at most {guests.MAX_NAME} characters for a name.",
            )
        ],
    )


def _render(
    booking: Booking,
    *,
    status: int = 200,
    ticket_id: int | None = None,
    error: str | None = None,
    typed: str | None = None,
    notice: str | None = None,
) -> ResponseReturnValue:
    """The ticket page, or for htmx the card of ticket `ticket_id` (with its `error` and the
    name `typed`, or a `notice`)."""
    now = utcnow()
    tickets = []
    if booking.status == BookingStatus.CONFIRMED:
        tickets = wallet.booking_tickets(get_session(), booking, now=now)
    context = {
        "booking": booking,
        "event": booking.event,
        "tickets": tickets,
        "status": bookings.display_status(booking, now),
        "qr": {
            t.id: qr_svg(t.code, label=f"QR code of ticket {t.number}")
            for t in tickets
            if t.code is not None
        },
        "can_name": guests.names_open(booking, now),
        "focus_id": ticket_id,
        "error": error,
        "typed": typed,
        "notice": notice,
    }
    card = next((t for t in tickets if t.id == ticket_id), None)
    if wants_fragment() and card is not None:
        return render_template("account/_ticket.html", ticket=card, **context), status
    return render_template("account/tickets.html", **context), status


def _own_booking(reference: str) -> Booking:
    return bookings.user_booking(get_session(), user_id=signed_in_user().id, reference=reference)


@bp.get("/<reference>/tickets")
@login_required
def page(reference: str) -> ResponseReturnValue:
    """The booking's tickets, a big QR each (a hold that ran out is released on the way)."""
    return _render(own_open_booking(reference))


@bp.get("/<reference>/tickets.pdf")
@login_required
def pdf(reference: str) -> Response:
    """The booking's tickets as a PDF, a page per valid ticket."""
    booking = _own_booking(reference)
    body = tickets_pdf(
        booking,
        wallet.booking_tickets(get_session(), booking, now=utcnow()),
        site_name=current_app.config["SITE_NAME"],
    )
    return Response(
        body,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="tickets-{booking.reference}.pdf"'},
    )


@bp.get("/<reference>/tickets.ics")
@login_required
def calendar(reference: str) -> Response:
    """The booking's event for one's calendar, with the way back to the tickets."""
    session = get_session()
    booking = _own_booking(reference)
    live = [t for t in wallet.booking_tickets(session, booking, now=utcnow()) if t.live]
    if not live:
        raise NotFound("This booking has no valid tickets.")
    url = absolute_url(".page", reference=booking.reference)
    body = booking_to_ics(
        booking,
        tickets=len(live),
        tickets_url=url,
        domain=urlsplit(url).hostname or "localhost",
        now=utcnow(),
    )
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{booking.reference}.ics"'},
    )


@bp.post("/<reference>/tickets/<int:ticket_id>/name")
@login_required
def name(reference: str, ticket_id: int) -> ResponseReturnValue:
    """Put a guest's name on one ticket (an empty name puts the buyer's back)."""
    session = get_session()
    user_id = signed_in_user().id
    booking = _own_booking(reference)
    form = GuestNameForm(formdata=request.form)
    typed = form.name.data or ""
    try:
        if not form.validate():
            raise InvalidGuestName(form.name.errors[0])
        ticket = guests.name_ticket(
            session, booking, ticket_id, typed, user_id=user_id, now=utcnow()
        )
    except (InvalidGuestName, TicketNotNameable, EventAlreadyStarted, Busy) as error:
        session.rollback()
        booking = _own_booking(reference)
        if booking.status != BookingStatus.CONFIRMED:
            flash(error.message, "error")
            return full_page_redirect(url_for(".page", reference=booking.reference))
        return _render(
            booking,
            status=http_status(error),
            ticket_id=ticket_id,
            error=error.message,
            typed=typed,
        )
    message = (
        f"The ticket is now in the name of {ticket.holder_name}."
        if ticket.holder_name
        else "The ticket is in your name again."
    )
    if wants_fragment():
        session.expire_all()
        return _render(_own_booking(reference), ticket_id=ticket_id, notice=message)
    flash(message, "success")
    return redirect(url_for(".page", reference=booking.reference) + f"#ticket-{ticket_id}", 303)


@bp.get("/tickets-sw.js")
def service_worker() -> Response:
    """The ticket pages' service worker, served from here so that its scope is this path."""
    response = send_from_directory(
        current_app.static_folder or "static", SERVICE_WORKER, mimetype="text/javascript"
    )
    response.headers["Cache-Control"] = "no-cache"
    return response
