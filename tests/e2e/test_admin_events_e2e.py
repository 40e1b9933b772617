"""In Chromium at phone width: an admin finds an event, features it (the home page shows it),
cancels it with a reason, and reads the change in the audit log. Accessibility is checked and
screenshots taken on the way."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.domain.accounts.models import Role
from app.domain.base import utcnow
from app.domain.events.models import EventStatus
from tests.browser import PHONE, check_accessibility, log_in, page_weight, screenshot

pytestmark = pytest.mark.e2e


def _look(page, name: str) -> None:  # noqa: ANN001
    check_accessibility(page)
    screenshot(page, name)
    assert page_weight(page) < 300_000


def test_an_admin_features_then_cancels_an_event_and_reads_the_audit_log(
    db, csrf_app, live_server, new_page, make_user, make_event, login_as
) -> None:  # noqa: ANN001
    admin = make_user(role=Role.ADMIN, name="Ada Admin")
    organizer = make_user(role=Role.ORGANIZER, email="oona@example.test")
    starts = utcnow() + timedelta(days=12)
    make_event(organizer=organizer, title="Harbour Lights Festival", starts_at=starts)
    make_event(organizer=organizer, title="Winter Draft", status=EventStatus.DRAFT)
    db.commit()
    base = live_server.url
    page = new_page(viewport=PHONE)
    log_in(page, live_server, csrf_app, admin, login_as)

    page.goto(f"{base}/admin/events")
    _look(page, "admin-events-phone")
    page.get_by_label("Title or organizer email").fill("harbour")
    expect(page.locator("#events-table tbody tr")).to_have_count(1)  # htmx narrowed the table
    page.get_by_role("link", name="Harbour Lights Festival").click()
    page.get_by_role("button", name="Feature on the home page").click()
    expect(page.get_by_text("is featured on the home page")).to_be_visible()
    _look(page, "admin-event-phone")

    home = new_page(viewport=PHONE)
    home.goto(base + "/")
    featured = home.locator("section", has=home.locator("#featured-heading"))
    expect(featured.get_by_role("link", name="Harbour Lights Festival")).to_be_visible()

    page.locator("#cancel-reason").fill("The venue lost its licence.")
    page.get_by_role("button", name="Cancel the event").click()
    expect(page.get_by_text("Event cancelled, with its 0 bookings.")).to_be_visible()

    page.get_by_role("link", name="Audit log of this event").click()
    expect(page.get_by_role("cell", name="event.cancelled_by_admin")).to_be_visible()
    expect(page.locator("table.audit-change ins", has_text="cancelled")).to_be_visible()
    _look(page, "admin-audit-phone")
    home.reload()
    expect(home.locator("#featured-heading")).to_have_count(0)
