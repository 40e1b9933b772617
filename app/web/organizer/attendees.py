"""The organizer's attendee list of one event, and its CSV and Excel exports
(`backoffice.attendees`)."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, Response, render_template, request, send_file, stream_with_context
from flask.typing import ResponseReturnValue

from app.db import get_db, get_session
from app.domain.backoffice import attendees, exports
from app.domain.base import utcnow
from app.domain.events.models import Event
from app.domain.teams.access import Permission
from app.domain.ticketing.models import BookingStatus
from app.domain.ticketing.tiers import event_tiers
from app.web.authz import organizer_event_or_404, requires_organizer_or_member

bp = Blueprint("organizer_attendees", __name__, url_prefix="/organizer/events/<int:event_id>")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _event_and_filter(event_id: int) -> tuple[Event, attendees.AttendeeFilter]:
    event = organizer_event_or_404(event_id, need=Permission.VIEW_SALES)
    return event, attendees.parse_filter(get_session(), event.id, request.args)


def _filename(event: Event, extension: str) -> str:
    return f"{event.slug}-attendees-{utcnow():%Y-%m-%d}.{extension}"


@bp.get("/attendees")
@requires_organizer_or_member
def index(event_id: int) -> ResponseReturnValue:
    """The event's tickets with their buyers and check-ins, searched and filtered."""
    event, chosen = _event_and_filter(event_id)
    session = get_session()
    return render_template(
        "organizer/attendees.html",
        event=event,
        chosen=chosen,
        page=attendees.attendee_page(session, event.id, chosen),
        tiers=event_tiers(session, event),
        statuses=list(BookingStatus),
        filters={k: v for k, v in request.args.items() if k != "page" and v},
    )


@bp.get("/attendees.csv")
@requires_organizer_or_member
def export_csv(event_id: int) -> ResponseReturnValue:
    """Every attendee the filters select as CSV, streamed as it is read."""
    event, chosen = _event_and_filter(event_id)
    return Response(
        stream_with_context(_csv_stream(event.id, chosen)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{_filename(event, "csv")}"'},
    )


def _csv_stream(event_id: int, chosen: attendees.AttendeeFilter) -> Iterator[str]:
    # The request's session is committed and closed before the body is sent: the stream
    # reads through a session of its own, closed when the body ends or the client leaves.
    with get_db().session() as session:
        yield from exports.csv_chunks(attendees.all_attendees(session, event_id, chosen))


@bp.get("/attendees.xlsx")
@requires_organizer_or_member
def export_xlsx(event_id: int) -> ResponseReturnValue:
    """Every attendee the filters select as an Excel workbook, written to a temporary file
    and sent from it."""
    event, chosen = _event_and_filter(event_id)
    workbook = exports.xlsx_file(attendees.all_attendees(get_session(), event.id, chosen))
    return send_file(
        workbook, mimetype=XLSX, as_attachment=True, download_name=_filename(event, "xlsx")
    )
