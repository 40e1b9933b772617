"""The tickets PDF read back as a door scanner and a reader would: each page rasterized with
poppler's `pdftoppm`, its QR decoded by zxing-cpp and verified with the event's public key
only; its text (`pdftotext`) names the guest, the seat, the event's local time and the
reference."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from app.domain.base import NotFound
from app.domain.events.models import EventType
from app.domain.payments.refunds import refund_booking
from app.domain.ticketing.bookings import cancel_booking
from app.domain.ticketing.models import Ticket
from app.domain.ticketing.waitlist import OfferSettings
from app.domain.tickets.guests import name_ticket
from app.domain.tickets.pdf import tickets_pdf
from app.domain.tickets.signing import check_code, public_key, verify
from app.domain.tickets.wallet import booking_tickets
from tests.browser import ARTIFACTS


def read_back(pdf: bytes, folder: Path) -> tuple[list[list[str]], str]:
    """The QR texts found on each page, and the document's text."""
    source = folder / "tickets.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(source), str(folder / "page")], check=True)
    pages = sorted(folder.glob("page-*.png"))
    codes = [[found.text for found in zxingcpp.read_barcodes(Image.open(page))] for page in pages]
    text = subprocess.run(
        ["pdftotext", "-layout", str(source), "-"], check=True, capture_output=True, text=True
    ).stdout
    return codes, text


def test_each_page_carries_a_scannable_signed_code_and_its_ticket_facts(
    db, now, make_user, make_seated_booking, tmp_path
):
    # 19:30 in Berlin in winter is 18:30 UTC: the PDF shows the event's own clock.
    starts = datetime(now.year + 1, 1, 15, 18, 30, tzinfo=UTC)
    buyer = make_user(name="Clara Buyer")
    booking = make_seated_booking(
        buyer=buyer, title="Quartet at the Lyric", starts_at=starts, ends_at=starts.replace(hour=20)
    )
    first, second = db.scalars(
        select(Ticket).where(Ticket.booking_id == booking.id).order_by(Ticket.id)
    ).all()
    name_ticket(db, booking, second.id, "Ada Lovelace", user_id=buyer.id, now=now)

    pdf = tickets_pdf(booking, booking_tickets(db, booking, now=now), site_name="Eventhall")
    codes, text = read_back(pdf, tmp_path)
    shutil.copy(tmp_path / "page-2.png", ARTIFACTS / "tickets-pdf-page-2.png")  # to look at

    assert [len(page) for page in codes] == [1, 1]  # a page per ticket, one QR on each
    public = public_key(db, booking.event_id, now=now)
    decoded = [verify(page[0], booking.event_id, public) for page in codes]
    assert [(c.ticket_id, c.check) for c in decoded] == [
        (first.id, check_code(first.secret)),
        (second.id, check_code(second.secret)),
    ]
    page_one, page_two = text.split("\f")[:2]
    assert "Clara Buyer" in page_one and "Stalls, Row B seat 1" in page_one
    assert "Ada Lovelace" in page_two and "Stalls, Row B seat 2" in page_two
    for page in (page_one, page_two):
        assert "Quartet at the Lyric" in page and booking.reference in page
        assert "19:30 (CET, Europe/Berlin)" in page
        assert "Town Hall, Main Street 1, Berlin" in page


def test_an_online_event_prints_its_join_link(db, now, make_seated_booking, tmp_path):
    booking = make_seated_booking(
        quantity=1,
        event_type=EventType.ONLINE,
        venue_name=None,
        address=None,
        city=None,
        online_url="https://meet.example.test/quartet",
    )
    _, text = read_back(
        tickets_pdf(booking, booking_tickets(db, booking, now=now), site_name="Eventhall"),
        tmp_path,
    )
    assert "https://meet.example.test/quartet" in text and "Town Hall" not in text


def test_void_tickets_are_left_out_and_a_booking_without_live_ones_has_no_pdf(
    db, now, make_seated_booking, pay_booking, tmp_path
):
    booking = pay_booking(make_seated_booking(price_minor=3000))
    first, second = db.scalars(
        select(Ticket).where(Ticket.booking_id == booking.id).order_by(Ticket.id)
    ).all()
    refund_booking(
        db,
        booking,
        ticket_ids=[first.id],
        reason="x",
        actor_id=None,
        now=now,
        offers=OfferSettings(),
    )
    codes, _ = read_back(
        tickets_pdf(booking, booking_tickets(db, booking, now=now), site_name="Eventhall"),
        tmp_path,
    )
    public = public_key(db, booking.event_id, now=now)
    assert [verify(page[0], booking.event_id, public).ticket_id for page in codes] == [second.id]

    free = make_seated_booking()
    cancel_booking(db, free, actor_id=None, now=now, offers=OfferSettings())
    with pytest.raises(NotFound):
        tickets_pdf(free, booking_tickets(db, free, now=now), site_name="Eventhall")
