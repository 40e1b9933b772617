"""The organizer's exports of one event's orders (a row per booking) and money (a row per
payment and per refund), as CSV streamed as it is read and as Excel (`backoffice.orders`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from flask import Blueprint, Response, send_file, stream_with_context
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from app.db import get_db, get_session
from app.domain.backoffice import booking_exports, exports
from app.domain.base import utcnow
from app.domain.events.models import Event
from app.domain.teams.access import Permission
from app.web.authz import organizer_event_or_404, requires_organizer_or_member
from app.web.organizer.attendees import XLSX

bp = Blueprint("organizer_exports", __name__, url_prefix="/organizer/events/<int:event_id>")

Rows = Callable[[Session, int], Iterator[booking_exports.BookingRow | booking_exports.MoneyRow]]
TABLES: dict[str, tuple[str, Sequence[str], Rows]] = {
    "orders": ("Orders", booking_exports.BOOKING_HEADER, booking_exports.all_bookings),
    "payments": ("Payments", booking_exports.PAYMENT_HEADER, booking_exports.all_money),
}


def _filename(event: Event, table: str, extension: str) -> str:
    return f"{event.slug}-{table}-{utcnow():%Y-%m-%d}.{extension}"


def _csv(event_id: int, table: str) -> ResponseReturnValue:
    event = organizer_event_or_404(event_id, need=Permission.VIEW_SALES)
    _, header, rows = TABLES[table]

    def stream() -> Iterator[str]:
        # The request's session is closed before the body is sent: the stream reads through
        # a session of its own, closed when the body ends or the client leaves.
        with get_db().session() as session:
            cells = (row.cells() for row in rows(session, event.id))
            yield from exports.table_csv_chunks(header, cells)

    return Response(
        stream_with_context(stream()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{_filename(event, table, "csv")}"'},
    )


def _xlsx(event_id: int, table: str) -> ResponseReturnValue:
    event = organizer_event_or_404(event_id, need=Permission.VIEW_SALES)
    title, header, rows = TABLES[table]
    cells = (row.cells() for row in rows(get_session(), event.id))
    return send_file(
        exports.table_xlsx_file(title, header, cells),
        mimetype=XLSX,
        as_attachment=True,
        download_name=_filename(event, table, "xlsx"),
    )


@bp.get("/orders.csv")
@requires_organizer_or_member
def orders_csv(event_id: int) -> ResponseReturnValue:
    """Every booking of the event as CSV, one row each."""
    return _csv(event_id, "orders")


@bp.get("/orders.xlsx")
@requires_organizer_or_member
def orders_xlsx(event_id: int) -> ResponseReturnValue:
    """Every booking of the event as an Excel workbook."""
    return _xlsx(event_id, "orders")


@bp.get("/payments.csv")
@requires_organizer_or_member
def payments_csv(event_id: int) -> ResponseReturnValue:
    """Every payment and refund of the event's bookings as CSV."""
    return _csv(event_id, "payments")


@bp.get("/payments.xlsx")
@requires_organizer_or_member
def payments_xlsx(event_id: int) -> ResponseReturnValue:
    """Every payment and refund of the event's bookings as an Excel workbook."""
    return _xlsx(event_id, "payments")
