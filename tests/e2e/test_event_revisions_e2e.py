"""In Chromium, on a phone and a desktop: an organizer changes a published event and sees the
changes wait for review, an admin reads the diff and approves it; then the organizer cancels
the event and a ticket holder sees it on the event and booking pages. Every page is checked
with axe, fits the phone's width, and is kept as a screenshot in test-artifacts/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.domain.accounts.models import Role
from app.domain.base import utcnow
from app.domain.events.editing import create_event
from app.domain.events.lifecycle import submit_event
from app.domain.events.moderation import approve_event
from app.domain.ticketing.allocation import hold_units
from tests.browser import DESKTOP, PHONE, check_accessibility, log_in, screenshot
from tests.domain.test_events_editing import valid_input

pytestmark = pytest.mark.e2e


def look(page, name: str) -> None:  # noqa: ANN001
    """Axe and a screenshot at desktop and phone width; nothing wider than the phone."""
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        check_accessibility(page)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
        screenshot(page, f"revisions-{name}-{size}")
    page.set_viewport_size(DESKTOP)


@pytest.fixture
def scene(db, make_user, make_tier):  # noqa: ANN001, ANN201
    organizer = make_user(role=Role.ORGANIZER, name="Olivia Organizer")
    admin = make_user(role=Role.ADMIN, name="Ada Admin")
    buyer = make_user(name="Bea Buyer")
    start = (utcnow() + timedelta(days=20)).replace(hour=19, minute=0, second=0, microsecond=0)
    data = valid_input(
        title="Harbour Jazz Night",
        description="Bring a **blanket** and a friend.\n\nDoors open at 18:30.",
        starts_local=start.replace(tzinfo=None),
        ends_local=(start + timedelta(hours=3)).replace(tzinfo=None),
    )
    event = create_event(db, organizer, data, now=utcnow())
    submit_event(db, event, actor=organizer, now=utcnow())
    approve_event(db, event, admin=admin, version=event.version, now=utcnow())
    tier = make_tier(event=event, capacity=20, name="Standing")
    booking = hold_units(
        db, user=buyer, event=event, tier=tier, quantity=2, now=utcnow(), hold_minutes=10
    )
    db.commit()
    return organizer, admin, buyer, event, booking


def test_changes_are_reviewed_then_the_event_is_cancelled(
    live_server,  # noqa: ANN001
    csrf_app,  # noqa: ANN001
    new_page,  # noqa: ANN001
    login_as,  # noqa: ANN001
    scene,  # noqa: ANN001
) -> None:
    organizer, admin, buyer, event, booking = scene
    base = live_server.url

    page = new_page(viewport=PHONE)
    log_in(page, live_server, csrf_app, organizer, login_as)
    page.goto(f"{base}/organizer/events/{event.id}/edit")
    expect(page.locator("#review-note")).to_contain_text("shown to an admin first")
    page.get_by_label("Title", exact=True).fill("Harbour Jazz & Swing Night")
    page.get_by_label("Description").fill(
        "Bring a **blanket**, a friend and your dancing shoes.\n\nDoors open at 18:00."
    )
    page.get_by_role("button", name="Save changes (reviewed before they are public)").click()
    expect(page.locator("#revision-state")).to_contain_text("Changes waiting for an admin’s review")
    look(page, "organizer-pending")

    admin_page = new_page(viewport=DESKTOP)
    log_in(admin_page, live_server, csrf_app, admin, login_as)
    admin_page.goto(f"{base}/admin/moderation")
    expect(admin_page.get_by_role("heading", name="Changes to published events")).to_be_visible()
    look(admin_page, "queue")
    admin_page.get_by_role("link", name="Review the changes to Harbour Jazz Night").click()
    expect(
        admin_page.get_by_role("heading", name="Changes to “Harbour Jazz Night”")
    ).to_be_visible()
    expect(admin_page.locator(".diff ins").last).to_contain_text("18:00")
    look(admin_page, "diff")
    admin_page.get_by_role("button", name="Approve and publish these changes").click()
    expect(admin_page.get_by_text("are public")).to_be_visible()

    reader = new_page(viewport=PHONE)
    log_in(reader, live_server, csrf_app, buyer, login_as)
    reader.goto(f"{base}/events/{event.id}")
    expect(
        reader.get_by_role("heading", name="Harbour Jazz & Swing Night", level=1)
    ).to_be_visible()

    page.goto(f"{base}/organizer/events/{event.id}/edit")
    page.get_by_label("Message to ticket holders (optional)").fill("The harbour is flooded.")
    page.get_by_role("button", name="Cancel this event").click()
    expect(page.get_by_text("Event cancelled, with its 1 booking.")).to_be_visible()

    reader.goto(f"{base}/events/{event.id}")
    expect(reader.get_by_text("This event has been cancelled.")).to_be_visible()
    expect(reader.get_by_text("no tickets are on sale")).to_be_visible()
    look(reader, "cancelled-event")
    reader.goto(f"{base}/account/bookings/{booking.reference}")
    expect(reader.get_by_text("The organizer cancelled this event.")).to_be_visible()
    look(reader, "cancelled-booking")
