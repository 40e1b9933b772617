"""In Chromium: a buyer past the hoarding rate sees why, and for how long, in the ticket panel
(a 429 that htmx swaps in); the organizer's tier form shows the limit per person it starts
with and what it says of a short access code. Phone and desktop, with axe."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from tests.browser import DESKTOP, PHONE, check_accessibility, log_in, screenshot

pytestmark = pytest.mark.e2e


def test_a_refused_hold_says_how_long_to_wait(
    live_server, csrf_app: Flask, db: Session, new_page, make_user, make_tier, login_as, monkeypatch
) -> None:  # noqa: ANN001
    monkeypatch.setitem(csrf_app.config, "HOLD_RATE_MAX", 1)
    tier = make_tier(capacity=20, price_minor=2500, name="Standing")
    buyers = {name: make_user(name=f"Rita {name}") for name in ("phone", "desktop")}
    db.commit()
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page = new_page(viewport=viewport)
        log_in(page, live_server, csrf_app, buyers[name], login_as)
        tickets = f"{live_server.url}/events/{tier.event_id}/tickets"
        page.goto(tickets)
        page.get_by_role("button", name="Reserve").click()
        expect(page.get_by_text("Pending", exact=False).first).to_be_visible()
        page.goto(tickets)
        page.evaluate("window.__sameDocument = true")
        page.get_by_role("button", name="Reserve").click()
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("many bookings for this event")
        expect(alert).to_contain_text("try again in")
        assert page.evaluate("window.__sameDocument") is True  # swapped in by htmx
        check_accessibility(page)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        screenshot(page, f"limits-refused-hold-{name}")


def test_the_tier_form_shows_the_default_limit_and_a_short_codes_fate(
    live_server, csrf_app: Flask, db: Session, new_page, make_event, make_tier, login_as
) -> None:  # noqa: ANN001
    event = make_event(title="Boat party")
    tier = make_tier(event=event, capacity=5, hidden=True, access_code="CREW", name="Crew")
    db.commit()
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page = new_page(viewport=viewport)
        log_in(page, live_server, csrf_app, event.organizer, login_as)
        page.goto(f"{live_server.url}/organizer/events/{event.id}/tiers/new")
        expect(page.get_by_label("Limit per person (all their bookings)")).to_have_value("10")
        check_accessibility(page)
        page.goto(f"{live_server.url}/organizer/events/{event.id}/tiers/{tier.id}/edit")
        expect(page.get_by_text("keeps working until you change it")).to_be_visible()
        page.get_by_role("textbox", name="Access code").fill("CREW2")
        page.get_by_role("button", name="Save").click()
        expect(page.locator("#access_code-error")).to_have_text(
            "Use at least 8 characters, hard to guess."
        )
        check_accessibility(page)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        screenshot(page, f"limits-tier-form-{name}")
