"""In Chromium: an organizer previews a draft without a live stream (a draft has none: its
stream would answer 404 and log an error), while a published event's page opens one. The
preview is checked with axe at phone and desktop width."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.domain.accounts.models import Role
from app.domain.base import utcnow
from app.domain.events.models import EventStatus
from tests.browser import DESKTOP, PHONE, check_accessibility, log_in, screenshot

pytestmark = pytest.mark.e2e


def watched(page):  # noqa: ANN001, ANN201
    """The page's console errors and its requests to live streams, as they happen."""
    seen = {"errors": [], "streams": []}
    page.on("console", lambda m: m.type == "error" and seen["errors"].append(m.text))
    page.on("pageerror", lambda error: seen["errors"].append(str(error)))
    page.on("request", lambda r: "/live" in r.url and seen["streams"].append(r.url))
    return seen


def test_a_draft_preview_opens_no_live_stream(
    live_server, csrf_app, db, make_user, make_event, make_tier, new_page, login_as
) -> None:  # noqa: ANN001
    organizer = make_user(role=Role.ORGANIZER, name="Olivia Organizer")
    starts = utcnow() + timedelta(days=10)
    draft = make_event(organizer=organizer, status=EventStatus.DRAFT, starts_at=starts)
    make_tier(event=draft, capacity=40, name="Standard", price_minor=1500)
    published = make_event(organizer=organizer, starts_at=starts)
    make_tier(event=published, capacity=40, name="Standard", price_minor=1500)
    db.commit()

    for viewport, name in ((PHONE, "phone"), (DESKTOP, "desktop")):
        page = new_page(viewport=viewport)
        log_in(page, live_server, csrf_app, organizer, login_as)
        seen = watched(page)
        page.goto(f"{live_server.url}/events/{draft.id}-{draft.slug}", wait_until="networkidle")
        expect(page.get_by_text("Preview: draft.")).to_be_visible()
        expect(page.locator(".remaining").first).to_have_text("40 left")
        page.wait_for_function("() => window.htmx !== undefined")  # scripts have run
        assert seen == {"errors": [], "streams": []}
        # The event's availability stream, that is (the navigation's bell has one of its own).
        assert page.locator("main [sse-connect]").count() == 0
        check_accessibility(page)
        screenshot(page, f"preview-draft-{name}")

    # The published event's page does open its stream (what the draft must not do).
    with page.expect_request(lambda r: "/live" in r.url):
        page.goto(f"{live_server.url}/events/{published.id}-{published.slug}")
    expect(page.locator(".remaining").first).to_have_text("40 left")
    assert seen["errors"] == []
