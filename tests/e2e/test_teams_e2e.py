"""In Chromium, two people: an organizer invites a check-in-only member into their team; the
member (another browser) opens the mailed link, logs in on the way, accepts, finds the
organizer's event in "Your teams", opens its door, and is refused its attendees and payments.
The owner sees the member in the team and changes their role. Every page at phone width
with axe, no sideways scroll; screenshots under test-artifacts/."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from app.domain.accounts.models import Role
from tests.browser import (
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


def test_a_check_in_member_joins_from_the_mail_and_reaches_the_door_only(
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
    make_user(email="dana.door@example.test", name="Dana Door")
    db.commit()

    boss = new_page(viewport=PHONE)
    log_in(boss, live_server, csrf_app, organizer, login_as)
    boss.goto(f"{live_server.url}/organizer/")
    boss.get_by_role("link", name="Team", exact=True).click()
    expect(boss.get_by_role("heading", name="Your team", exact=True)).to_be_visible()
    boss.get_by_label("Their email address").fill("dana.door@example.test")
    boss.get_by_label("Role").select_option("checkin")
    boss.get_by_role("button", name="Send invitation").click()
    expect(boss.get_by_text("Invitation sent to dana.door@example.test.")).to_be_visible()
    _look(boss, "team-owner-invited-phone")

    link = deliver_and_read_link(csrf_app, "dana.door@example.test", "/organizer/team/invitations/")
    dana = new_page(viewport=PHONE)
    dana.goto(link)
    expect(dana.get_by_role("heading", name="Log in")).to_be_visible()
    dana.get_by_label("Email address").fill("dana.door@example.test")
    dana.get_by_label("Password").fill(DEFAULT_PASSWORD)
    dana.get_by_role("button", name="Log in").click()
    expect(dana.get_by_role("heading", name="Team invitation")).to_be_visible()
    expect(dana.locator("main")).to_contain_text("Olivia Organizer invited dana.door@example.test")
    _look(dana, "team-invitation-phone")
    dana.get_by_role("button", name="Accept").click()
    expect(dana.get_by_text("You are in Olivia Organizer’s team.")).to_be_visible()
    expect(dana.get_by_role("heading", name="Your teams")).to_be_visible()
    expect(dana.get_by_role("link", name="Attendees of Harbour jazz night")).to_have_count(0)
    _look(dana, "team-memberships-phone")

    dana.get_by_role("link", name="Door of Harbour jazz night").click()
    expect(dana.get_by_role("heading", name="Harbour jazz night")).to_be_visible()
    for path in ("attendees", "payments"):
        answer = dana.goto(f"{live_server.url}/organizer/events/{event.id}/{path}")
        assert answer is not None and answer.status == 404
    answer = dana.goto(f"{live_server.url}/organizer/team/")
    assert answer is not None and answer.status == 403

    boss.reload()
    members = boss.locator(".staff-list").first
    expect(members).to_contain_text("Dana Door")
    members.get_by_label("Role of Dana Door").select_option("sales")
    members.get_by_role("button", name="Change role of Dana Door").click()
    expect(boss.get_by_text("Dana Door now has the role “View sales”.")).to_be_visible()
    _look(boss, "team-owner-members-phone")
