"""In Chromium: an organizer creates and submits an event, an admin approves it, and an
attendee finds it with live search (results change as they type, without a page load).
Every page visited is checked with axe; phone and desktop screenshots land in test-artifacts/."""

from __future__ import annotations

import time
from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import expect

from app.domain.accounts.models import Role
from app.domain.base import utcnow
from app.domain.events.models import EventStatus
from tests.browser import DESKTOP, PHONE, check_accessibility, page_weight, screenshot
from tests.factories.accounts import DEFAULT_PASSWORD

pytestmark = pytest.mark.e2e

TITLE = "Moonlight Saxophone Evening"
PAGE_BUDGET = 300 * 1024


def look(page, name: str, *, phone_too: bool = True) -> None:  # noqa: ANN001
    """Check accessibility and the page weight, and take desktop (and phone) screenshots."""
    check_accessibility(page)
    assert page_weight(page) < PAGE_BUDGET, f"{name} weighs {page_weight(page)} bytes"
    screenshot(page, f"events-{name}-desktop")
    if phone_too:
        page.set_viewport_size(PHONE)
        check_accessibility(page)
        screenshot(page, f"events-{name}-phone")
        page.set_viewport_size(DESKTOP)


def log_in(page, base: str, user, step_offset: int = 0) -> None:  # noqa: ANN001
    """Through the real login form: password, then a TOTP code when the account has 2FA."""
    page.goto(base + "/login")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    if user.totp_secret is None:
        expect(page.get_by_role("button", name="Log out")).to_be_visible()
        return
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    code = pyotp.TOTP(user.totp_secret).at(time.time() + 30 * step_offset)
    page.get_by_label("Code from your authenticator app").fill(code)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


@pytest.fixture
def people(db, make_user, make_category, make_event):  # noqa: ANN001, ANN201
    organizer = make_user(role=Role.ORGANIZER, name="Olivia Organizer")
    organizer.organization_name = "Riverside Music Collective"
    admin = make_user(role=Role.ADMIN, name="Ada Admin")
    attendee = make_user(role=Role.ATTENDEE, name="Alice Attendee")
    make_category(name="Music", slug="music")
    soon = utcnow() + timedelta(days=3)
    for n, title in enumerate(("Morning Yoga Session", "Python Meetup", "Jazz Quartet Live")):
        make_event(title=title, starts_at=soon + timedelta(days=n), min_price_minor=0)
    db.commit()
    return organizer, admin, attendee


def test_create_submit_approve_and_find_with_live_search(live_server, new_page, people) -> None:  # noqa: ANN001
    organizer, admin, attendee = people
    base = live_server.url

    # The organizer creates a draft and submits it.
    page = new_page(viewport=DESKTOP)
    log_in(page, base, organizer)
    page.goto(base + "/organizer/")
    expect(page.get_by_role("heading", name="Your events")).to_be_visible()
    look(page, "organizer-dashboard-empty", phone_too=False)
    page.get_by_role("link", name="Create an event").click()
    expect(page.get_by_role("heading", name="New event")).to_be_visible()
    look(page, "event-form")
    page.get_by_label("Title", exact=True).fill(TITLE)
    page.get_by_label("Description", exact=True).fill("A night of **saxophone** under the stars.")
    page.get_by_label("Category").select_option(label="Music")
    page.get_by_label("Tags").fill("jazz, outdoors")
    day = (utcnow() + timedelta(days=60)).date().isoformat()  # ahead: it can be submitted
    page.get_by_label("Starts").fill(f"{day}T19:00")
    page.get_by_label("Ends").fill(f"{day}T22:00")
    page.get_by_label("Time zone").fill("Europe/Berlin")
    page.get_by_label("Venue name").fill("Riverside Park")
    page.get_by_label("Address").fill("1 Park Lane")
    page.get_by_label("City").fill("Berlin")
    page.locator("#speakers-0-name").fill("Sam Sax")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved")).to_be_visible()
    look(page, "event-form-saved", phone_too=False)
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_text("Submitted for review")).to_be_visible()
    expect(page.get_by_role("heading", name="Waiting for review (1)")).to_be_visible()
    look(page, "organizer-dashboard")

    # An admin approves it.
    admin_page = new_page(viewport=DESKTOP)
    log_in(admin_page, base, admin)
    admin_page.goto(base + "/admin/moderation")
    expect(admin_page.get_by_role("link", name=TITLE)).to_be_visible()
    look(admin_page, "moderation-queue", phone_too=False)
    admin_page.get_by_role("button", name=f"Approve {TITLE}").click()
    expect(admin_page.get_by_text(f"Published “{TITLE}”")).to_be_visible()

    # An attendee finds it by typing: the results change, the page does not reload.
    reader = new_page(viewport=DESKTOP)
    log_in(reader, base, attendee)
    reader.goto(base + "/events")
    expect(reader.get_by_role("link", name="Jazz Quartet Live")).to_be_visible()
    look(reader, "search")
    reader.evaluate("window.__samePage = true")
    reader.locator("#q").press_sequentially("moonli", delay=60)
    results = reader.locator("#results")
    expect(results.get_by_role("link", name=TITLE)).to_be_visible()
    expect(results.get_by_role("link", name="Jazz Quartet Live")).to_have_count(0)
    expect(results.get_by_role("status")).to_have_text("1 event for “moonli”")
    assert reader.evaluate("window.__samePage") is True, "live search reloaded the page"
    assert "q=moonli" in reader.url  # hx-push-url keeps the URL shareable
    look(reader, "search-results")
    reader.get_by_text("Filters", exact=True).click()
    reader.get_by_role("combobox", name="Format").select_option(label="Online")
    expect(results.get_by_role("status")).to_have_text("No events found for “moonli”")
    assert "type=online" in reader.url and reader.evaluate("window.__samePage") is True
    assert "price=" not in reader.url, "empty filters stay out of the shared URL"
    look(reader, "search-filters")
    reader.get_by_role("combobox", name="Format").select_option(label="Any format")
    results.get_by_role("link", name=TITLE).click()
    expect(reader.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    expect(reader.get_by_role("heading", name="Tickets")).to_be_visible()
    expect(reader.get_by_role("heading", name="Sam Sax")).to_be_visible()
    look(reader, "event-page")
    reader.goto(base + "/")
    expect(reader.get_by_role("heading", name="Soon and popular")).to_be_visible()
    look(reader, "home")


def test_search_without_javascript_renders_the_same_results(
    live_server, new_page, make_event, db
) -> None:  # noqa: ANN001
    make_event(title=TITLE, starts_at=utcnow() + timedelta(days=2), status=EventStatus.PUBLISHED)
    make_event(title="Chess Club", starts_at=utcnow() + timedelta(days=2))
    db.commit()
    page = new_page(viewport=PHONE, javascript=False)
    page.goto(live_server.url + "/events")
    page.get_by_label("Search events").fill("moonli")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name=TITLE)).to_be_visible()
    expect(page.get_by_role("link", name="Chess Club")).to_have_count(0)
    assert "q=moonli" in page.url
    # (axe needs JavaScript: the same page is checked with it on in the test above.)
    screenshot(page, "events-search-nojs-phone")
