"""Choosing seats for a seated event: the seat map page, hold the chosen seats, or the best ones.

Both holds go to the booking page on success (htmx: `HX-Redirect`). A refusal answers with
what happened and what we suggest instead, as a form that holds the suggestion: the nearest
free seats of the same number when chosen seats were just taken (and, for htmx, out-of-band
swaps that grey out the taken seats), the seats left when no seats together are, or "hold
anyway" when a choice would leave a single seat alone. A plain form post gets the whole page
with that answer; nothing is held until the buyer agrees.

The map itself comes from the shared rendering (`live_fragments`): rendered once per change
per process, not once per request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from flask import Blueprint, current_app, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange

from app.db import get_session
from app.domain.base import NotFound, utcnow
from app.domain.events.models import Event
from app.domain.ticketing.allocation import MAX_SEATS_PER_ORDER, hold_units
from app.domain.ticketing.best_seats import hold_best_by_id, nearest_alternative
from app.domain.ticketing.errors import (
    BookingError,
    LeavesSingleSeats,
    OfferedSeat,
    SeatsNotTogether,
    SeatsTaken,
)
from app.domain.ticketing.on_sale import EventOnSale, load_event_on_sale
from app.domain.ticketing.seatmap_view import SeatCell, SeatState, seat_cells
from app.web.authz import (
    published_event_or_404,
    published_or_404,
    signed_in_user_or_none,
    verified_email_required,
)
from app.web.error_status import http_status
from app.web.forms import AppForm
from app.web.htmx import full_page_redirect, render_page_or_fragment, wants_fragment
from app.web.network import booking_wait, busy_network_message
from app.web.public.booking import hold_rules, offer_settings
from app.web.public.live_fragments import fragments_for, requested_part
from app.web.templating import format_money

bp = Blueprint("public_seats", __name__)
E = TypeVar("E", Event, EventOnSale)


class SeatPickForm(AppForm):
    seat = SelectMultipleField("Seats", coerce=int, validate_choice=False)
    # The buyer was told the choice leaves a single seat alone, and goes on.
    allow_single = BooleanField("Hold them anyway")


class BestSeatsForm(AppForm):
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


@dataclass(frozen=True)
class SeatAnswer:
    """A refused hold, as the page shows it: why, and optionally seats to hold instead."""

    message: str
    offer: list[OfferedSeat] = field(default_factory=list)
    action: str = ""  # the offer's button
    taken: list[SeatCell] = field(default_factory=list)  # chosen seats someone else has


def _hold(seats: list[OfferedSeat]) -> str:
    return "Hold " + " and ".join(seat.label for seat in seats)


def seated_event_or_404(event_id: int) -> Event:
    """A published seated event; anything else is "not found"."""
    return _seated_or_404(published_event_or_404(event_id))


def _seated_or_404(event: E) -> E:
    if not event.is_seated:
        raise NotFound("We could not find that event.")
    return event


def seat_page(
    event: Event,
    *,
    section: int | None,
    status: int = 200,
    best_answer: SeatAnswer | None = None,
    pick_answer: SeatAnswer | None = None,
    best_form: BestSeatsForm | None = None,
) -> ResponseReturnValue:
    # A page answering a refused hold shows the seats as they are now, not as cached.
    fresh = best_answer is not None or pick_answer is not None
    snapshot = fragments_for(current_app).snapshot(
        event.id, seats=True, section=section, fresh=fresh
    )
    best_form = best_form or BestSeatsForm(formdata=None)
    best_form.tier_id.choices = [
        SelectChoice(zone.tier_id, f"{zone.name} ({format_money(zone.price_minor, zone.currency)})")
        for zone in snapshot.seatmap.zones
        if zone.on_sale
    ]
    context = {
        "event": event,
        "snapshot": snapshot,
        "seatmap": snapshot.seatmap,
        "remaining": snapshot.remaining,
        "pick_form": SeatPickForm(formdata=None),
        "best_form": best_form,
        "best_answer": best_answer,
        "pick_answer": pick_answer,
    }
    return render_page_or_fragment("public/seatmap.html", "public/_seatmap.html", **context), status


@bp.get("/events/<int:event_id>/seats")
def page(event_id: int) -> ResponseReturnValue:
    """The seat map of a seated event (`?section=N` for one part of a large venue, whose
    page without it is an overview of the parts)."""
    event = seated_event_or_404(event_id)
    return seat_page(event, section=requested_part(request.args.get("section")))


def _login_first(event_id: int) -> ResponseReturnValue:
    flash("Please log in to choose seats.", "info")
    return full_page_redirect(url_for("auth.login", next=url_for(".page", event_id=event_id)))


def _to_booking(reference: str) -> ResponseReturnValue:
    return full_page_redirect(url_for("account_bookings.detail", reference=reference))


def _first_error(form: AppForm) -> str:
    return next((e for errors in form.errors.values() for e in errors), "Please check your choice.")


def _answer(
    event_id: int,
    answer: SeatAnswer,
    *,
    status: int,
    best: bool,
    section: int | None,
    best_form: BestSeatsForm | None = None,
) -> ResponseReturnValue:
    """A refusal: for htmx the answer alone (plus the taken seats greyed out), else the page.
    Takes the event's id: after a rollback the event object would be read again."""
    target = "best" if best else "pick"
    if wants_fragment():
        context = {"event_id": event_id, "answer": answer, "target": target}
        return render_template("public/_seat_answer.html", **context), status
    event = seated_event_or_404(event_id)
    if best:
        return seat_page(
            event, section=section, status=status, best_answer=answer, best_form=best_form
        )
    return seat_page(event, section=section, status=status, pick_answer=answer)


def _taken_cells(event_id: int, seat_ids: list[int]) -> list[SeatCell]:
    """The taken seats as the map should show them now: held, if the claim is still in flight."""
    return [
        cell if cell.state != SeatState.FREE else cell.with_state(SeatState.HELD)
        for cell in seat_cells(get_session(), event_id, seat_ids, now=utcnow())
    ]


def _network_busy(event_id: int, wait: int, *, best: bool) -> ResponseReturnValue:
    answer = SeatAnswer(busy_network_message(wait))
    section = request.form.get("section", type=int)
    page, status = _answer(event_id, answer, status=429, best=best, section=section)
    return page, status, {"Retry-After": str(wait)}


@bp.post("/events/<int:event_id>/seats")
@verified_email_required
def hold_chosen(event_id: int) -> ResponseReturnValue:
    """Hold exactly the seats ticked on the map."""
    if wait := booking_wait():
        return _network_busy(event_id, wait, best=False)
    user = signed_in_user_or_none()
    if user is None:
        return _login_first(event_id)
    # A lean read of the event (the hot path of a rush); pages that need more load it whole.
    event = _seated_or_404(published_or_404(load_event_on_sale(get_session(), event_id)))
    form = SeatPickForm()
    section = request.form.get("section", type=int)

    def refuse(message: str, status: int = 422) -> ResponseReturnValue:
        return _answer(event_id, SeatAnswer(message), status=status, best=False, section=section)

    if not form.validate():
        return refuse("Those seats do not exist.")
    if not form.seat.data:
        return refuse("Choose at least one seat.")
    session = get_session()
    try:
        booking = hold_units(
            session,
            user=user,
            event=event,
            tier=None,
            quantity=len(form.seat.data),
            seat_ids=form.seat.data,
            now=utcnow(),
            hold_minutes=int(current_app.config["HOLD_MINUTES"]),
            offers=offer_settings(),
            rules=hold_rules(),
            allow_single_seats=form.allow_single.data,
        )
    except SeatsTaken as error:
        session.rollback()
        taken = _taken_cells(event_id, error.seat_ids)
        names = " and ".join(cell.name for cell in taken)
        offer = nearest_alternative(
            session, event_id=event_id, seat_ids=form.seat.data, buyer_id=user.id
        )
        message = f"Sorry, {names} {'was' if len(taken) == 1 else 'were'} just taken."
        message += " These are free nearby:" if offer else " Please pick other seats."
        answer = SeatAnswer(message, offer, _hold(offer), taken)
        return _answer(event_id, answer, status=http_status(error), best=False, section=section)
    except LeavesSingleSeats as error:
        session.rollback()
        chosen = [OfferedSeat(seat_id, "") for seat_id in form.seat.data]
        answer = SeatAnswer(error.message, chosen, "Hold my choice anyway")
        return _answer(event_id, answer, status=http_status(error), best=False, section=section)
    except BookingError as error:
        session.rollback()
        return refuse(error.message, http_status(error))
    return _to_booking(booking.reference)


@bp.post("/events/<int:event_id>/seats/best")
@verified_email_required
def hold_best(event_id: int) -> ResponseReturnValue:
    """Hold the best free seats of one price zone, side by side."""
    if wait := booking_wait():
        return _network_busy(event_id, wait, best=True)
    user = signed_in_user_or_none()
    if user is None:
        return _login_first(event_id)
    form = BestSeatsForm()
    session = get_session()
    if form.validate():
        try:
            booking = hold_best_by_id(
                session,
                user=user,
                event_id=event_id,
                tier_id=form.tier_id.data,
                quantity=form.quantity.data,
                now=utcnow(),
                hold_minutes=int(current_app.config["HOLD_MINUTES"]),
                offers=offer_settings(),
                rules=hold_rules(),
            )
        except BookingError as error:
            session.rollback()
            offer = error.seats if isinstance(error, SeatsNotTogether) else []
            answer, status = SeatAnswer(error.message, offer, _hold(offer)), http_status(error)
        else:
            return _to_booking(booking.reference)
    else:
        answer, status = SeatAnswer(_first_error(form)), 422
    seated_event_or_404(event_id)  # someone else's draft is "not found", whatever was asked
    return _answer(event_id, answer, status=status, best=True, section=None, best_form=form)
