"""In Chromium, two people: an organizer invites a staff member by email for one event; the
staff member (another browser) opens the mailed link, logs in on the way, accepts, finds the
event on /checkin/ and is refused the organizer's pages. Every page at phone width with axe,
no sideways scroll; screenshots under test-artifacts/."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from app.domain.accounts.models import Role
from tests.browser import (
    DESKTOP,
    PHONE,
    check_accessibility,
    deliver_and_read_link,
    log_in,
    page_weight,
    screenshot,
)
from tests.factories.accounts import DEFAULT_PASSWORD

pytestmark = pytest.mark.e2e


def _look(page, name: str) -> None:  # noqa: ANN001
    check_accessibility(page)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page_weight(page) < 300_000
    screenshot(page, name)


def test_an_invited_staff_member_reaches_the_door_and_nothing_else(
    live_server,
    csrf_app: Flask,
    db: Session,
    new_page,
    make_user,
    make_event,
    login_as,
    monkeypatch,  # noqa: ANN001
) -> None:
    monkeypatch.setitem(csrf_app.config, "BASE_URL", live_server.url)
    organizer = make_user(role=Role.ORGANIZER, name="Olivia Organizer")
    event = make_event(organizer=organizer, title="Harbour jazz night")
    make_event(organizer=organizer, title="Autumn folk evening")
    make_user(email="sam.staff@example.test", name="Sam Staff")
    db.commit()

    boss = new_page(viewport=PHONE)
    log_in(boss, live_server, csrf_app, organizer, login_as)
    boss.goto(f"{live_server.url}/organizer/")
    boss.get_by_role("link", name="Check-in staff").click()
    expect(boss.get_by_role("heading", name="Check-in staff", exact=True)).to_be_visible()
    boss.get_by_label("Their email address").fill("sam.staff@example.test")
    boss.get_by_label("Which events").select_option(label="Harbour jazz night")
    boss.get_by_role("button", name="Send invitation").click()
    expect(boss.get_by_text("Invitation sent to sam.staff@example.test.")).to_be_visible()
    expect(boss.locator(".staff-list")).to_contain_text("Harbour jazz night")
    _look(boss, "staff-organizer-phone")

    # The staff member, signed out, opens the mailed link: log in first, then back to it.
    link = deliver_and_read_link(csrf_app, "sam.staff@example.test", "/staff/invitations/")
    sam = new_page(viewport=PHONE)
    sam.goto(link)
    expect(sam.get_by_role("heading", name="Log in")).to_be_visible()
    sam.get_by_label("Email address").fill("sam.staff@example.test")
    sam.get_by_label("Password").fill(DEFAULT_PASSWORD)
    sam.get_by_role("button", name="Log in").click()
    expect(sam.get_by_role("heading", name="Check-in invitation")).to_be_visible()
    expect(sam.locator("main")).to_contain_text("Olivia Organizer invited sam.staff@example.test")
    _look(sam, "staff-invitation-phone")
    sam.get_by_role("button", name="Accept").click()
    expect(
        sam.get_by_text("You can now check in tickets for “Harbour jazz night”.")
    ).to_be_visible()
    expect(sam.get_by_role("heading", name="Harbour jazz night")).to_be_visible()
    expect(sam.get_by_text("Autumn folk evening")).to_have_count(0)
    door = sam.get_by_role("link", name="Open the door of Harbour jazz night")
    assert door.get_attribute("href") == f"/checkin/{event.id}"
    expect(
        sam.get_by_role("navigation", name="Main").get_by_role("link", name="Check-in")
    ).to_be_visible()
    _look(sam, "staff-home-phone")

    # Nothing of the organizer's back office.
    answer = sam.goto(f"{live_server.url}/organizer/")
    assert answer is not None and answer.status == 403
    answer = sam.goto(f"{live_server.url}/organizer/staff/")
    assert answer is not None and answer.status == 403
    expect(
        sam.get_by_role("navigation", name="Main").get_by_role("link", name="Organizer")
    ).to_have_count(0)

    # The organizer's list shows the new staff member.
    boss.reload()
    expect(boss.locator(".staff-list").first).to_contain_text("Sam Staff")

    # The same pages on a desktop, for a human to look at.
    wide = new_page(viewport=DESKTOP)
    log_in(wide, live_server, csrf_app, organizer, login_as)
    wide.goto(f"{live_server.url}/organizer/staff/")
    _look(wide, "staff-organizer-desktop")
    wide.goto(f"{live_server.url}/checkin/")
    _look(wide, "staff-home-organizer-desktop")
