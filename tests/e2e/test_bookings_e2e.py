"""In Chromium: the booking history, with a page of past bookings and the way to older ones."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.domain.base import utcnow
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.bookings import PAST_PAGE_SIZE
from tests.browser import DESKTOP, PHONE, check_accessibility, log_in, screenshot

pytestmark = pytest.mark.e2e


def test_the_history_pages_through_past_bookings_on_a_phone_and_a_desktop(
    live_server,  # noqa: ANN001
    csrf_app,  # noqa: ANN001
    db,  # noqa: ANN001
    new_page,  # noqa: ANN001
    make_user,  # noqa: ANN001
    make_event,  # noqa: ANN001
    make_tier,  # noqa: ANN001
    login_as,  # noqa: ANN001
) -> None:
    now = utcnow()
    buyer = make_user(name="Paula Pager")
    coming = make_tier(event=make_event(title="Winter Concert"), capacity=4, price_minor=2500)
    hold_units(
        db, user=buyer, event=coming.event, tier=coming, quantity=2, now=now, hold_minutes=10
    )
    ended = make_event(title="Summer Fair", starts_at=now - timedelta(days=90))
    past = make_tier(event=ended, capacity=PAST_PAGE_SIZE + 3, name="Day ticket")
    for n in range(PAST_PAGE_SIZE + 3):
        hold_units(
            db,
            user=buyer,
            event=ended,
            tier=past,
            quantity=1,
            now=now - timedelta(days=100, minutes=n),
            hold_minutes=10,
        )
    db.commit()

    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page = new_page(viewport=viewport)
        log_in(page, live_server, csrf_app, buyer, login_as)
        page.goto(f"{live_server.url}/account/bookings")
        expect(page.get_by_role("link", name="Winter Concert")).to_be_visible()
        check_accessibility(page)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        screenshot(page, f"bookings-{name}")
        page.get_by_role("link", name="Older bookings →").click()
        expect(page.get_by_role("link", name="← Newer bookings")).to_be_visible()
        expect(page.get_by_role("link", name="Summer Fair")).to_have_count(3)
        check_accessibility(page)
        screenshot(page, f"bookings-older-{name}")
