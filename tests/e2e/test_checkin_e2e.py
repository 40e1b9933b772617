"""In Chromium, at the door on a phone: a ticket code typed by hand turns the page green with
the attendee's name, the same code again turns it red ("already checked in"), and a second
phone on the same door page sees the counter move without reloading (the live stream). With
axe on the page, green and red; no sideways scroll at 390 px; screenshots on desktop too."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from app.domain.ticketing.models import Booking
from tests.browser import DESKTOP, PHONE, check_accessibility, log_in, screenshot

pytestmark = pytest.mark.e2e


def no_sideways_scroll(page) -> None:  # noqa: ANN001
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_checking_in_at_the_door(
    live_server,
    csrf_app: Flask,
    db: Session,
    new_page,
    make_tickets,
    make_tier,
    make_event,
    make_staff,
    login_as,
    ticket_code,  # noqa: ANN001
) -> None:
    event = make_event(title="Night of the Strings")
    standing = make_tier(event=event, name="Standing", capacity=10)
    tickets = make_tickets(tier=standing, quantity=2)
    tickets[0].holder_name = "Ada Lovelace"
    staff = make_staff(event, name="Sam Staff")
    code = ticket_code(tickets[0])
    booking = db.get(Booking, tickets[0].booking_id)
    reference, buyer_name = booking.reference, booking.user.name
    db.commit()
    door = f"{live_server.url}/checkin/{event.id}?gate=North"

    watcher = new_page(viewport=PHONE)  # another phone at the door
    log_in(watcher, live_server, csrf_app, staff, login_as)
    watcher.goto(door)
    expect(watcher.locator("#counters")).to_contain_text("0 / 2")

    page = new_page(viewport=PHONE)
    log_in(page, live_server, csrf_app, staff, login_as)
    page.goto(door)
    expect(page.get_by_role("heading", name="Night of the Strings")).to_be_visible()
    check_accessibility(page)
    no_sideways_scroll(page)

    page.get_by_label("Ticket code").fill(code)
    page.get_by_role("button", name="Check ticket").click()
    result = page.locator("#scan-result")
    expect(result).to_contain_text("Valid")
    expect(result).to_contain_text("Ada Lovelace")
    expect(result).to_contain_text("Standing")
    expect(result.locator(".verdict-ok")).to_be_visible()
    assert page.url == door  # htmx swapped the answer in: no page load
    check_accessibility(page)
    no_sideways_scroll(page)
    screenshot(page, "checkin-phone-green")

    # The other phone's counters follow, without reloading.
    expect(watcher.locator("#counters")).to_contain_text("1 / 2")
    expect(watcher.locator("#counters")).to_contain_text("North")

    page.get_by_label("Ticket code").fill(code)
    page.get_by_role("button", name="Check ticket").click()
    expect(result).to_contain_text("Already checked in")
    expect(result).to_contain_text("gate North, by Sam Staff")
    expect(page.get_by_label("Ticket code")).to_have_value("")  # ready for the next one
    expect(result.locator(".verdict-bad")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "checkin-phone-red")

    wide = new_page(viewport=DESKTOP)
    log_in(wide, live_server, csrf_app, staff, login_as)
    wide.goto(door)
    wide.get_by_label("Ticket code").fill(code)
    wide.get_by_role("button", name="Check ticket").click()
    expect(wide.locator("#scan-result")).to_contain_text("Already checked in")
    screenshot(wide, "checkin-desktop-red")
    # By hand: the booking's reference lists both its tickets, the one not in has a button.
    wide.get_by_label("Name or booking reference").fill(reference.lower())
    wide.get_by_role("button", name="Search").click()
    found = wide.locator("#search-results")
    expect(found).to_contain_text("Ada Lovelace")
    expect(found.get_by_role("button", name="Check in")).to_have_count(1)
    check_accessibility(wide)
    screenshot(wide, "checkin-desktop-search")
    found.get_by_role("button", name="Check in").click()
    expect(wide.locator("#scan-result .verdict-ok")).to_contain_text(buyer_name)
    expect(found.get_by_role("button", name="Check in")).to_have_count(0)  # the list follows
    screenshot(wide, "checkin-desktop-green")
    expect(watcher.locator("#counters")).to_contain_text("2 / 2")
    expect(watcher.locator("#counters")).not_to_contain_text("Main")  # both in at North


def test_the_door_without_javascript(
    live_server,
    csrf_app: Flask,
    db: Session,
    new_page,
    make_tickets,
    make_staff,
    login_as,
    ticket_code,  # noqa: ANN001
) -> None:
    (ticket,) = make_tickets()
    ticket.holder_name = "Grace Hopper"
    event = db.get(Booking, ticket.booking_id).event
    staff = make_staff(event)
    code = ticket_code(ticket)
    db.commit()
    page = new_page(viewport=PHONE, javascript=False)
    log_in(page, live_server, csrf_app, staff, login_as)
    page.goto(f"{live_server.url}/checkin/{event.id}")
    page.get_by_label("Ticket code").fill(code)
    page.get_by_role("button", name="Check ticket").click()
    expect(page.locator("#scan-result")).to_contain_text("Grace Hopper")
    expect(page.locator("#counters")).to_contain_text("1 / 1")
    screenshot(page, "checkin-phone-green-nojs")
    page.get_by_role("button", name="Undo check-in").click()
    expect(page.locator("#scan-result")).to_contain_text("Check-in undone")
    expect(page.locator("#counters")).to_contain_text("0 / 1")
