"""In Chromium: a buyer applies a coupon code on the booking page and the total changes in
place (htmx, no reload), a wrong code says why beside the field, and a code that makes the
booking free offers "Confirm these tickets"; the organizer's coupon list with its uses. Phone
and desktop, with axe; screenshots under test-artifacts/."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from app.domain.base import utcnow
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.coupon_settings import CouponData, create_coupon
from app.domain.ticketing.models import CouponKind
from tests.browser import DESKTOP, PHONE, check_accessibility, log_in, screenshot

pytestmark = pytest.mark.e2e


def test_a_code_changes_the_total_in_place(
    live_server, csrf_app: Flask, db: Session, new_page, make_user, make_event, make_tier, login_as
) -> None:  # noqa: ANN001
    event = make_event(title="Harbour jazz night")
    tier = make_tier(event=event, capacity=20, price_minor=2500, name="Standing")
    for code, fields in {
        "JAZZ15": {"kind": CouponKind.PERCENT, "percent_off": 15, "max_uses": 50},
        "ONTHEHOUSE": {"kind": CouponKind.PERCENT, "percent_off": 100},
    }.items():
        create_coupon(
            db, event=event, data=CouponData(code=code, **fields), actor_id=None, now=utcnow()
        )
    buyers = {name: make_user(name=f"Nina {name}") for name in ("phone", "desktop")}
    holds = {
        name: hold_units(
            db, user=buyer, event=event, tier=tier, quantity=2, now=utcnow(), hold_minutes=10
        )
        for name, buyer in buyers.items()
    }
    db.commit()
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page = new_page(viewport=viewport)
        log_in(page, live_server, csrf_app, buyers[name], login_as)
        page.goto(f"{live_server.url}/account/bookings/{holds[name].reference}")
        expect(page.get_by_role("button", name="Pay USD 50.00")).to_be_visible()
        page.evaluate("window.__sameDocument = true")
        code = page.get_by_label("Have a coupon code?")
        code.fill("nope")
        page.get_by_role("button", name="Apply").click()
        expect(page.locator("#coupon-error")).to_have_text("That code is not valid for this event.")
        check_accessibility(page)
        page.get_by_label("Have a coupon code?").fill("jazz15")
        page.get_by_role("button", name="Apply").click()
        expect(page.locator(".total")).to_have_text("USD 42.50")
        expect(page.get_by_role("status")).to_have_text("Code JAZZ15 applied.")
        expect(page.get_by_role("button", name="Pay USD 42.50")).to_be_visible()
        assert page.evaluate("window.__sameDocument") is True  # swapped in by htmx
        # The new fragment's clock ticks (it changes within a few seconds).
        expect(page.locator(".countdown")).not_to_have_text(
            page.locator(".countdown").inner_text(), timeout=3000
        )
        check_accessibility(page)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        screenshot(page, f"coupon-booking-{name}")
        page.get_by_label("Another code").fill("ONTHEHOUSE")
        page.get_by_role("button", name="Apply").click()
        expect(page.get_by_role("button", name="Confirm these tickets")).to_be_visible()
        expect(page.locator(".total")).to_have_text("Free")
        assert page.evaluate("window.__sameDocument") is True
        page.get_by_role("button", name="Confirm these tickets").click()
        expect(page.get_by_text("is confirmed", exact=False).first).to_be_visible()


def test_the_organizer_sees_codes_and_their_uses(
    live_server, csrf_app: Flask, db: Session, new_page, make_user, make_event, make_tier, login_as
) -> None:  # noqa: ANN001
    event = make_event(title="Harbour jazz night")
    tier = make_tier(event=event, capacity=20, price_minor=2500, name="Standing")
    make_tier(event=event, capacity=5, price_minor=6000, name="Front row")
    early = create_coupon(
        db,
        event=event,
        data=CouponData(
            code="EARLYBIRD",
            kind=CouponKind.PERCENT,
            percent_off=20,
            max_uses=100,
            tier_ids=[tier.id],
        ),
        actor_id=None,
        now=utcnow(),
    )
    create_coupon(
        db,
        event=event,
        data=CouponData(
            code="GROUP4", kind=CouponKind.FIXED, amount_off_minor=1000, min_quantity=4
        ),
        actor_id=None,
        now=utcnow(),
    )
    booking = hold_units(
        db, user=make_user(), event=event, tier=tier, quantity=1, now=utcnow(), hold_minutes=10
    )
    from app.domain.ticketing.coupons import apply_coupon

    apply_coupon(db, booking, early.code, now=utcnow())
    db.commit()
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page = new_page(viewport=viewport)
        log_in(page, live_server, csrf_app, event.organizer, login_as)
        page.goto(f"{live_server.url}/organizer/events/{event.id}/tiers")
        page.get_by_role("link", name="Coupon codes").click()
        expect(
            page.get_by_role("heading", name="Coupon codes for Harbour jazz night")
        ).to_be_visible()
        expect(page.get_by_role("row", name="EARLYBIRD", exact=False)).to_contain_text("1 of 100")
        check_accessibility(page)
        screenshot(page, f"coupon-organizer-list-{name}")
        page.get_by_role("link", name="New coupon code").click()
        page.get_by_label("Code", exact=True).fill(f"late-{name}")
        page.get_by_label("Percentage off").fill("30")
        page.get_by_label("Front row").check()
        page.get_by_role("button", name="Create").click()
        late = f"LATE-{name.upper()}"
        expect(page.get_by_text(f"Code {late} created.")).to_be_visible()
        check_accessibility(page)
        page.get_by_role("button", name=f"Deactivate {late}").click()
        expect(page.get_by_role("row", name=late, exact=False)).to_contain_text("Deactivated")
        if name == "phone":
            page.get_by_role("link", name="Edit EARLYBIRD").click()
            check_accessibility(page)
            screenshot(page, "coupon-organizer-form-phone")
