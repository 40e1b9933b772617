"""In Chromium at 390 px: the organizer's attendee list, filtered with the plain GET form,
with axe and page weight; a screenshot under test-artifacts/."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from app.domain.accounts.models import Role
from app.domain.base import utcnow
from app.domain.checkin.models import CheckIn
from tests.browser import PHONE, check_accessibility, log_in, page_weight, screenshot

pytestmark = pytest.mark.e2e


def test_the_organizer_filters_the_attendee_list_on_a_phone(
    live_server,
    csrf_app: Flask,
    db: Session,
    new_page,
    make_user,
    make_event,
    make_tier,
    make_tickets,
    login_as,
) -> None:  # noqa: ANN001
    organizer = make_user(role=Role.ORGANIZER)
    event = make_event(organizer=organizer, title="Harbour jazz night")
    standing = make_tier(event=event, capacity=20, name="Standing")
    make_tier(event=event, capacity=20, name="Front row")
    admitted = make_tickets(
        tier=standing, quantity=2, user=make_user(name="Nina Patel", email="nina@example.test")
    )
    make_tickets(tier=standing, user=make_user(name="Omar Reyes", email="omar@example.test"))
    db.add(
        CheckIn(
            ticket_id=admitted[0].id,
            event_id=event.id,
            tier_id=standing.id,
            scanned_at=utcnow(),
        )
    )
    db.commit()
    page = new_page(viewport=PHONE)
    log_in(page, live_server, csrf_app, organizer, login_as)
    page.goto(f"{live_server.url}/organizer/events/{event.id}/tiers")
    page.get_by_role("link", name="Attendees").click()
    expect(page.get_by_role("heading", name="Attendees of Harbour jazz night")).to_be_visible()
    expect(page.locator("#attendee-count")).to_have_text("3 tickets")
    page.get_by_label("Checked in").select_option("yes")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#attendee-count")).to_have_text("1 ticket")
    expect(page.get_by_role("rowheader")).to_contain_text("Nina Patel")
    page.get_by_label("Checked in").select_option("")
    page.get_by_label("Name, email or booking reference").fill("omar")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#attendee-count")).to_have_text("1 ticket")
    page.get_by_label("Name, email or booking reference").fill("")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#attendee-count")).to_have_text("3 tickets")
    check_accessibility(page)
    assert page_weight(page) < 300_000
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename.endswith(".csv")
    screenshot(page, "attendees-phone")
