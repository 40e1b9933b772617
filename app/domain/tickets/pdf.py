"""A booking's tickets as one PDF, a page per live ticket (WeasyPrint, from templates/pdf/)."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from PIL import ImageFile
from weasyprint import HTML

from app.domain.base import NotFound
from app.domain.events.models import EventType
from app.domain.ticketing.models import Booking
from app.domain.tickets.qr import qr_svg
from app.domain.tickets.wallet import WalletTicket

# Importing WeasyPrint makes Pillow accept truncated images in the whole process; uploads must
# still refuse them (app/integrations/storage.py), and the tickets embed no raster image.
ImageFile.LOAD_TRUNCATED_IMAGES = False

_TEMPLATES = Path(__file__).resolve().parents[3] / "templates"
# Its own environment: the domain renders without Flask (a worker may mail the PDF one day).
_ENV = Environment(
    loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["html"]), auto_reload=False
)


def tickets_pdf(booking: Booking, tickets: list[WalletTicket], *, site_name: str) -> bytes:
    """The PDF of the booking's live tickets; a booking without any has none (NotFound)."""
    live = [ticket for ticket in tickets if ticket.live]
    if not live:
        raise NotFound("This booking has no valid tickets to print.")
    event = booking.event
    html = _ENV.get_template("pdf/tickets.html").render(
        booking=booking,
        event=event,
        starts=event.starts_at.astimezone(ZoneInfo(event.timezone)),
        online=event.event_type == EventType.ONLINE,
        tickets=live,
        count=len(tickets),
        qr={t.id: qr_svg(t.code or "", label=f"QR code of ticket {t.number}") for t in live},
        site_name=site_name,
    )
    return HTML(string=html).write_pdf()
