"""The organizer's seat map editor: the layout as text, and a grid to block seats, mark wheelchair
spaces and put seats into price zones (ticket types).

Plain forms (a checkbox per seat and per row, an action menu) that work without JavaScript;
htmx swaps the editor in place. Another organizer's event answers 404.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from wtforms import SelectField, SelectMultipleField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from app.db import get_session
from app.domain.base import utcnow
from app.domain.events.models import Event
from app.domain.ticketing.models import TicketTier
from app.domain.ticketing.seat_layout import SeatLayoutError
from app.domain.ticketing.seatmap import (
    SeatAction,
    SeatMapError,
    SeatsInUse,
    change_seats,
    current_layout,
    replace_layout,
)
from app.domain.ticketing.seatmap_view import seat_map_view
from app.web.authz import organizer_event_or_404, requires_organizer_or_member, signed_in_user
from app.web.error_status import http_status
from app.web.forms import AppForm
from app.web.htmx import render_page_or_fragment
from app.web.public.booking import offer_settings

bp = Blueprint("organizer_seatmap", __name__, url_prefix="/organizer/events/<int:event_id>/seats")

ACTIONS = [
    SelectChoice(SeatAction.BLOCK.value, "Block (not for sale)"),
    SelectChoice(SeatAction.UNBLOCK.value, "Unblock"),
    SelectChoice(SeatAction.WHEELCHAIR.value, "Mark as wheelchair spaces"),
    SelectChoice(SeatAction.NO_WHEELCHAIR.value, "Unmark wheelchair spaces"),
    SelectChoice(SeatAction.ZONE.value, "Put into the price zone below"),
    SelectChoice(SeatAction.UNZONE.value, "Take out of any price zone"),
]
LAYOUT_MAX_CHARS = 60_000  # far above 20,000 seats written compactly, below MAX_FORM_BYTES


class LayoutForm(AppForm):
    layout = TextAreaField(
        "Rows and seats",
        validators=[
            DataRequired("Write at least one row, for example “Row A: 1-20”."),
            Length(max=LAYOUT_MAX_CHARS, message="That layout is too long."),
        ],
    )
    new_seat_tier = SelectField("Price zone for new seats", coerce=int, validate_choice=False)


class SeatEditForm(AppForm):
    action = SelectField("Action", choices=ACTIONS)
    tier = SelectField("Price zone", coerce=int, validate_choice=False)
    seat = SelectMultipleField("Seats", coerce=int, validate_choice=False)
    row = SelectMultipleField("Rows", coerce=int, validate_choice=False)


def _tier_choices(event: Event, *, none_label: str) -> list[SelectChoice]:
    tiers = get_session().scalars(
        select(TicketTier)
        .where(TicketTier.event_id == event.id)
        .order_by(TicketTier.position, TicketTier.id)
    )
    return [SelectChoice(0, none_label)] + [SelectChoice(tier.id, tier.name) for tier in tiers]


def _event_tier(event: Event, tier_id: int | None) -> TicketTier | None:
    """The chosen tier when it is one of the event's (0 or a stranger's id: none)."""
    tier = get_session().get(TicketTier, tier_id) if tier_id else None
    return tier if tier is not None and tier.event_id == event.id else None


def _editor(
    event: Event,
    *,
    status: int = 200,
    layout_form: LayoutForm | None = None,
    edit_form: SeatEditForm | None = None,
    edit_error: str | None = None,
) -> ResponseReturnValue:
    session = get_session()
    if layout_form is None:
        layout_form = LayoutForm(formdata=None, layout=current_layout(session, event))
    edit_form = edit_form or SeatEditForm(formdata=None)
    layout_form.new_seat_tier.choices = _tier_choices(event, none_label="No zone (not for sale)")
    edit_form.tier.choices = _tier_choices(event, none_label="Choose a price zone")
    # A large venue opens on its first part: the editor has no overview.
    section = request.args.get("section", 0, type=int)
    seatmap = seat_map_view(session, event, now=utcnow(), organizer=True, section=section)
    context = {
        "event": event,
        "seatmap": seatmap,
        "layout_form": layout_form,
        "edit_form": edit_form,
        "edit_error": edit_error,
    }
    page = render_page_or_fragment(
        "organizer/seatmap.html", "organizer/_seatmap_editor.html", **context
    )
    return page, status


def _back_to_editor(event: Event) -> ResponseReturnValue:
    section = request.args.get("section", type=int)
    return redirect(url_for(".editor", event_id=event.id, section=section), 303)


@bp.get("")
@requires_organizer_or_member
def editor(event_id: int) -> ResponseReturnValue:
    """The seat map editor (`?section=N` for one section of a large venue)."""
    return _editor(organizer_event_or_404(event_id))


@bp.post("/layout")
@requires_organizer_or_member
def save_layout(event_id: int) -> ResponseReturnValue:
    """Replace the layout; seats that stay keep their zone, flags and bookings."""
    event = organizer_event_or_404(event_id)
    form = LayoutForm()
    if not form.validate():
        return _editor(event, status=422, layout_form=form)
    try:
        change = replace_layout(
            get_session(),
            event=event,
            text=form.layout.data,
            new_seat_tier=_event_tier(event, form.new_seat_tier.data),
            actor_id=signed_in_user().id,
            now=utcnow(),
            offers=offer_settings(),
        )
    except SeatLayoutError as error:
        form.layout.errors = list(error.problems)
        return _editor(event, status=http_status(error), layout_form=form)
    except SeatsInUse as error:
        form.layout.errors = [error.message]
        return _editor(event, status=http_status(error), layout_form=form)
    flash(
        f"Seat map saved: {change.added} seats added, {change.removed} removed, "
        f"{change.kept} kept.",
        "success",
    )
    return _back_to_editor(event)


@bp.post("/edit")
@requires_organizer_or_member
def edit_seats(event_id: int) -> ResponseReturnValue:
    """Apply one action to the ticked seats and rows."""
    event = organizer_event_or_404(event_id)
    form = SeatEditForm()
    form.tier.choices = _tier_choices(event, none_label="")
    if not form.validate():
        return _editor(
            event, status=422, edit_form=form, edit_error="Choose an action and existing seats."
        )
    try:
        changed = change_seats(
            get_session(),
            event=event,
            action=SeatAction(form.action.data),
            seat_ids=form.seat.data,
            row_seat_ids=form.row.data,
            tier=_event_tier(event, form.tier.data),
            actor_id=signed_in_user().id,
            now=utcnow(),
            offers=offer_settings(),
        )
    except (SeatMapError, SeatsInUse) as error:
        return _editor(event, status=http_status(error), edit_form=form, edit_error=error.message)
    flash(f"{changed} seat{'' if changed == 1 else 's'} changed.", "success")
    return _back_to_editor(event)
