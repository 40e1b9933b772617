"""In Chromium: a buyer holds two paid seats, takes 10% off with a coupon code (in place, no
reload), pays through the demo provider's checkout, and
watches the return page turn confirmed without reloading when the signed webhook lands (sent
over HTTP to the live server, as the worker sends it); the organizer refunds one seat; the
buyer sees the refund on the booking page. Phone and desktop, with axe."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.accounts.models import Role
from app.domain.outbox import OutboxMessage
from app.domain.ticketing.coupon_settings import CouponData, create_coupon
from app.domain.ticketing.models import CouponKind
from app.domain.ticketing.seatmap import replace_layout
from app.integrations.payments.demo import WEBHOOK_TOPIC
from jobs.payment_tasks import deliver_demo_webhook
from jobs.relay import deliver_pending
from tests.browser import DESKTOP, PHONE, check_accessibility, log_in, page_weight, screenshot

pytestmark = pytest.mark.e2e


@pytest.fixture
def venue(db: Session, make_event, make_tier, now):  # noqa: ANN001, ANN201
    event = make_event(title="Quartet at the Lyric", is_seated=True)
    stalls = make_tier(event=event, name="Stalls", price_minor=3000, capacity=0)
    replace_layout(
        db,
        event=event,
        text="Section Stalls\nRow A: 1-8\nRow B: 1-8",
        new_seat_tier=stalls,
        actor_id=None,
        now=now,
    )
    create_coupon(
        db,
        event=event,
        data=CouponData(code="QUARTET10", kind=CouponKind.PERCENT, percent_off=10),
        actor_id=None,
        now=now,
    )
    db.commit()
    return event


def deliver_webhooks(db: Session, csrf_app: Flask, live_server) -> None:  # noqa: ANN001
    """What the worker does with the demo's events: POST them, signed, to the live server."""
    config = dict(csrf_app.config)
    db.expire_all()
    for message in db.scalars(
        select(OutboxMessage).where(
            OutboxMessage.topic == WEBHOOK_TOPIC, OutboxMessage.processed_at.is_(None)
        )
    ):
        deliver_demo_webhook(db, config, message.payload)
        message.processed_at = message.created_at
    db.commit()


def test_paying_for_two_seats_and_a_refund(
    live_server, csrf_app: Flask, db: Session, venue, new_page, make_user, login_as, monkeypatch
) -> None:  # noqa: ANN001
    # The checkout and the return page are absolute links, made from BASE_URL.
    monkeypatch.setitem(csrf_app.config, "BASE_URL", live_server.url)
    buyer = make_user(name="Clara Buyer")
    db.commit()
    viewport = {"phone": PHONE, "desktop": DESKTOP}
    page = new_page(viewport=PHONE)
    log_in(page, live_server, csrf_app, buyer, login_as)
    page.goto(f"{live_server.url}/events/{venue.id}/seats")
    page.get_by_label("Number of seats").fill("2")
    page.get_by_role("button", name="Find best seats").click()
    expect(page).to_have_url(re.compile(r"/account/bookings/[A-Z0-9]+$"))
    reference = page.url.rsplit("/", 1)[1]
    expect(page.get_by_role("button", name="Pay USD 60.00")).to_be_visible()
    page.evaluate("window.__sameDocument = true")
    page.get_by_label("Have a coupon code?").fill("quartet10")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("button", name="Pay USD 54.00")).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True  # swapped in by htmx
    check_accessibility(page)
    screenshot(page, "payments-booking-phone")

    page.get_by_role("button", name="Pay USD 54.00").click()
    expect(page.get_by_role("heading", name="Demo checkout")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "payments-demo-checkout-phone")
    page.get_by_role("button", name="Pay USD 54.00").click()
    expect(page.get_by_text("Confirming your payment")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "payments-confirming-phone")
    page.evaluate("window.__sameDocument = true")
    deliver_webhooks(db, csrf_app, live_server)
    expect(page.get_by_text("Payment received: you are in.")).to_be_visible(timeout=15_000)
    assert page.evaluate("window.__sameDocument") is True  # pushed by the stream, no reload
    check_accessibility(page)
    screenshot(page, "payments-confirmed-phone")

    organizer = new_page(viewport=DESKTOP)
    log_in(organizer, live_server, csrf_app, venue.organizer, login_as)
    organizer.goto(f"{live_server.url}/organizer/events/{venue.id}/payments")
    check_accessibility(organizer)
    organizer.get_by_label("Booking reference").fill(reference)
    organizer.get_by_role("button", name="Open").click()
    expect(organizer.get_by_role("heading", name=f"Booking {reference}")).to_be_visible()
    check_accessibility(organizer)
    organizer.get_by_role("checkbox", name="Ticket 1: Stalls, Row A seat 3").check()
    organizer.get_by_label("Reason, for the buyer").fill("Seat swapped for an aisle")
    organizer.get_by_role("button", name="Refund").click()
    expect(organizer.get_by_text("The refund is on its way")).to_be_visible()
    screenshot(organizer, "payments-organizer-refund-desktop")
    deliver_pending(db, csrf_app.config)  # the worker sends the refund to the provider
    db.commit()

    desk = new_page(viewport=PHONE)
    log_in(desk, live_server, csrf_app, venue.organizer, login_as)
    admin = new_page(viewport=PHONE)
    log_in(admin, live_server, csrf_app, make_user(role=Role.ADMIN), login_as)
    for who, url, shot in (
        (desk, f"/organizer/events/{venue.id}/payments", "payments-organizer-phone"),
        (desk, f"/organizer/events/{venue.id}/bookings/{reference}", "payments-refunds-phone"),
        (admin, "/admin/bookings", "payments-admin-find-phone"),
        (admin, f"/admin/bookings/{reference}", "payments-admin-booking-phone"),
    ):
        who.goto(live_server.url + url)
        check_accessibility(who)
        assert who.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), url
        screenshot(who, shot)

    for name in ("phone", "desktop"):
        mine = new_page(viewport=viewport[name])
        log_in(mine, live_server, csrf_app, buyer, login_as)
        mine.goto(f"{live_server.url}/account/bookings/{reference}")
        # A seat's share of what was paid: its price less its share of the discount.
        expect(mine.get_by_text("Refund of USD 27.00 for 1 ticket (succeeded)")).to_be_visible()
        expect(mine.get_by_text("You are in: 1 ticket.")).to_be_visible()
        expect(mine.get_by_role("link", name="Receipt")).to_be_visible()
        check_accessibility(mine)
        assert mine.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert page_weight(mine) < 300_000
        screenshot(mine, f"payments-refunded-{name}")
        mine.get_by_role("link", name="Receipt").click()
        expect(mine.get_by_role("heading", name="Receipt")).to_be_visible()
        check_accessibility(mine)
        assert mine.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        screenshot(mine, f"payments-receipt-{name}")
