"""Choosing seats for a seated event: the seat map page, hold the chosen seats, or the best ones.

Both holds go to the booking page on success. A refusal ("these seats were just taken")
re-renders the map as it is now, with the message, and nothing is held.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange

from app.db import get_session
from app.domain.base import NotFound, utcnow
from app.domain.events.models import Event, EventStatus
from app.domain.ticketing.allocation import MAX_SEATS_PER_ORDER, hold_units
from app.domain.ticketing.errors import BookingError
from app.domain.ticketing.models import TicketTier
from app.domain.ticketing.seatmap import hold_best_available
from app.domain.ticketing.seatmap_view import public_remaining, seat_map_view
from app.web.public.booking import offer_settings
from app.web.templating import format_money

bp = Blueprint("public_seats", __name__)


class SeatPickForm(FlaskForm):
    seat = SelectMultipleField("Seats", coerce=int, validate_choice=False)


class BestSeatsForm(FlaskForm):
    quantity = IntegerField(
        "Number of seats",
        default=2,
        validators=[
            InputRequired("Say how many seats you need."),
            NumberRange(
                min=1,
                max=MAX_SEATS_PER_ORDER,
                message=f"Choose between 1 and {MAX_SEATS_PER_ORDER} seats.",
            ),
        ],
    )
    tier_id = SelectField("Price zone", coerce=int, validate_choice=False)


def seated_event_or_404(event_id: int) -> Event:
    """A published seated event; anything else is "not found"."""
    event = get_session().get(Event, event_id)
    if event is None or event.status != EventStatus.PUBLISHED or not event.is_seated:
        raise NotFound("We could not find that event.")
    return event


def seat_page(
    event: Event,
    *,
    section: int | None,
    status: int = 200,
    error: str | None = None,
    best_form: BestSeatsForm | None = None,
) -> ResponseReturnValue:
    session = get_session()
    seatmap = seat_map_view(session, event, now=utcnow(), section=section)
    best_form = best_form or BestSeatsForm(formdata=None)
    best_form.tier_id.choices = [
        SelectChoice(zone.tier_id, f"{zone.name} ({format_money(zone.price_minor, zone.currency)})")
        for zone in seatmap.zones
        if zone.on_sale
    ]
    context = {
        "event": event,
        "seatmap": seatmap,
        "remaining": public_remaining(session, event.id, now=utcnow()),
        "pick_form": SeatPickForm(formdata=None),
        "best_form": best_form,
        "seat_error": error,
    }
    template = "public/_seatmap.html" if request.headers.get("HX-Request") else None
    return render_template(template or "public/seatmap.html", **context), status


@bp.get("/events/<int:event_id>/seats")
def page(event_id: int) -> ResponseReturnValue:
    """The seat map of a seated event (`?section=N` for one section of a large venue)."""
    event = seated_event_or_404(event_id)
    return seat_page(event, section=request.args.get("section", type=int))


def _login_first(event_id: int) -> ResponseReturnValue:
    flash("Please log in to choose seats.", "info")
    return redirect(url_for("auth.login", next=url_for(".page", event_id=event_id)), 303)


def _to_booking(reference: str) -> ResponseReturnValue:
    return redirect(url_for("account_bookings.detail", reference=reference), 303)


def _first_error(form: FlaskForm) -> str:
    return next((e for errors in form.errors.values() for e in errors), "Please check your choice.")


@bp.post("/events/<int:event_id>/seats")
def hold_chosen(event_id: int) -> ResponseReturnValue:
    """Hold exactly the seats ticked on the map."""
    if not current_user.is_authenticated:
        return _login_first(event_id)
    event = seated_event_or_404(event_id)
    form = SeatPickForm()
    section = request.form.get("section", type=int)
    if not form.validate():
        return seat_page(event, section=section, status=422, error="Those seats do not exist.")
    if not form.seat.data:
        return seat_page(event, section=section, status=422, error="Choose at least one seat.")
    try:
        booking = hold_units(
            get_session(),
            user=current_user,
            event=event,
            tier=None,
            quantity=len(form.seat.data),
            seat_ids=form.seat.data,
            now=utcnow(),
            hold_minutes=int(current_app.config["HOLD_MINUTES"]),
            offers=offer_settings(),
        )
    except BookingError as error:
        get_session().rollback()
        return seat_page(event, section=section, status=error.status, error=error.message)
    return _to_booking(booking.reference)


@bp.post("/events/<int:event_id>/seats/best")
def hold_best(event_id: int) -> ResponseReturnValue:
    """Hold the best free seats of one price zone, side by side when possible."""
    if not current_user.is_authenticated:
        return _login_first(event_id)
    event = seated_event_or_404(event_id)
    form = BestSeatsForm()
    if not form.validate():
        return seat_page(event, section=None, status=422, error=_first_error(form), best_form=form)
    tier = get_session().get(TicketTier, form.tier_id.data)
    try:
        if tier is None:
            raise BookingError("invalid_tier")
        booking = hold_best_available(
            get_session(),
            user=current_user,
            event=event,
            tier=tier,
            quantity=form.quantity.data,
            now=utcnow(),
            hold_minutes=int(current_app.config["HOLD_MINUTES"]),
            offers=offer_settings(),
        )
    except BookingError as error:
        get_session().rollback()
        return seat_page(
            event, section=None, status=error.status, error=error.message, best_form=form
        )
    return _to_booking(booking.reference)
