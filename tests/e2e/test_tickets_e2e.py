"""In Chromium: the buyer opens the ticket page on a phone (a QR per seat, axe clean, light),
puts a guest's name on a ticket in place, loses the network and reloads: the service worker
shows the page as last seen, QR (it decodes to the ticket's signed code) and guest's name
included. The same page on a desktop, and with a void ticket."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from flask import Flask
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from app.domain.base import utcnow
from app.domain.ticketing.models import TicketStatus
from app.domain.tickets.signing import public_key, verify
from tests.browser import DESKTOP, PHONE, check_accessibility, log_in, page_weight, screenshot
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

KEPT = """async (text) => {
  const kept = await caches.match(location.pathname, { ignoreVary: true });
  return !!kept && (await kept.text()).includes(text);
}"""


def test_the_ticket_page_on_a_phone_with_a_guest_name_and_offline(
    live_server, csrf_app: Flask, db: Session, new_page, make_user, make_seated_booking, login_as
) -> None:  # noqa: ANN001
    buyer = make_user(name="Clara Buyer")
    booking = make_seated_booking(buyer=buyer, title="Quartet at the Lyric")
    db.commit()
    tickets_url = f"{live_server.url}/account/bookings/{booking.reference}/tickets"

    page = new_page(viewport=PHONE)
    log_in(page, live_server, csrf_app, buyer, login_as)
    page.goto(f"{live_server.url}/account/bookings/{booking.reference}")
    expect(page.get_by_role("link", name="Download PDF")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "tickets-booking-phone")
    page.get_by_role("link", name="Your tickets").click()
    expect(page).to_have_url(tickets_url)
    expect(page.get_by_role("img", name="QR code of ticket 1")).to_be_visible()
    expect(page.get_by_role("img", name="QR code of ticket 2")).to_be_visible()
    expect(page.get_by_text("Stalls · Stalls, Row B seat 2")).to_be_visible()
    assert page_weight(page) < 300_000
    check_accessibility(page)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    qr_width = page.get_by_role("img", name="QR code of ticket 1").bounding_box()["width"]
    assert qr_width >= 300  # big enough to scan from the phone's screen
    screenshot(page, "tickets-phone")

    page.evaluate("window.__sameDocument = true")
    second = page.get_by_role("listitem").filter(has_text="Ticket 2 of 2")
    second.get_by_text("Put a guest's name on this ticket").click()
    second.get_by_label("Name on ticket 2").fill("Ada Lovelace")
    second.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The ticket is now in the name of Ada Lovelace.")).to_be_visible()
    expect(page.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True  # swapped in by htmx
    check_accessibility(page)
    screenshot(page, "tickets-guest-named-phone")

    # The service worker keeps the page as it is now (it asked to be kept after the swap).
    wait_until(lambda: page.evaluate(KEPT, "Ada Lovelace"), what="the page kept offline")
    page.context.set_offline(True)
    page.reload()
    expect(page.get_by_role("img", name="QR code of ticket 1")).to_be_visible()
    expect(page.get_by_role("img", name="QR code of ticket 2")).to_be_visible()
    expect(page.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
    assert page.evaluate("getComputedStyle(document.body).margin") == "0px"  # styled, too
    # What the door scanner would read off the screen: ticket 2's signed code.
    shot = page.get_by_role("img", name="QR code of ticket 2").screenshot()
    (found,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))
    public = public_key(db, booking.event_id, now=utcnow())
    assert verify(found.text, booking.event_id, public).ticket_id == max(
        t.id for t in booking.tickets
    )
    screenshot(page, "tickets-offline-phone")
    page.context.set_offline(False)
    # Logging out takes the kept pages off the device.
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out.")).to_be_visible()
    wait_until(
        lambda: page.evaluate("async () => (await caches.keys()).length === 0"),
        what="the kept ticket pages dropped",
    )

    desk = new_page(viewport=DESKTOP)
    log_in(desk, live_server, csrf_app, buyer, login_as)
    desk.goto(tickets_url)
    expect(desk.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
    check_accessibility(desk)
    screenshot(desk, "tickets-desktop")

    # A ticket taken back (as a refund of that one seat leaves it): void, with nothing to scan.
    first = min(booking.tickets, key=lambda t: t.id)
    first.status = TicketStatus.VOID
    db.commit()
    desk.reload()
    expect(desk.get_by_text("This ticket was cancelled or refunded")).to_be_visible()
    expect(desk.get_by_role("img", name="QR code of ticket 1")).to_have_count(0)
    check_accessibility(desk)
    screenshot(desk, "tickets-void-desktop")
