"""In Chromium: an attendee picks two seats on the map; a second browser sees them turn held
without reloading. Also: the map without JavaScript, accessibility, and how it looks."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.ticketing.models import Unit
from app.domain.ticketing.seatmap import SeatAction, change_seats, replace_layout
from tests.browser import DESKTOP, PHONE, check_accessibility, log_in, screenshot
from tests.waiting import WAIT

pytestmark = pytest.mark.e2e

LAYOUT = """Section Stalls
Row A: 1-14
Row B: 1-6, 9-22
Row C: 1-22
Section Circle
Row D: 1-18"""


@pytest.fixture
def theatre(db: Session, make_event, make_tier, now):  # noqa: ANN001, ANN201
    """Hamlet: stalls and circle zones, two wheelchair spaces, two blocked seats."""
    event = make_event(is_seated=True, title="Hamlet")
    stalls = make_tier(event=event, name="Stalls", price_minor=2500, capacity=0)
    circle = make_tier(event=event, name="Circle", price_minor=1500, capacity=0)
    replace_layout(db, event=event, text=LAYOUT, new_seat_tier=stalls, actor_id=None, now=now)
    seat = {
        f"{u.row_label}{u.seat_number}": u.id
        for u in db.scalars(select(Unit).where(Unit.event_id == event.id))
    }
    for action, seats, tier in (
        (SeatAction.ZONE, ["D1"], circle),  # with `row_seat_ids`: the whole of row D
        (SeatAction.WHEELCHAIR, ["A1", "A2"], None),
        (SeatAction.BLOCK, ["C21", "C22"], None),
    ):
        ids = [seat[name] for name in seats]
        change_seats(
            db,
            event=event,
            action=action,
            seat_ids=ids if action != SeatAction.ZONE else (),
            row_seat_ids=ids if action == SeatAction.ZONE else (),
            tier=tier,
            actor_id=None,
            now=now,
        )
    db.commit()
    return event


COUNT_SSE_MESSAGES = """
window.__sseMessages = 0;
document.addEventListener("htmx:sseMessage", function () { window.__sseMessages += 1; });
"""


def test_a_second_browser_sees_seats_turn_held_without_reloading(
    live_server, csrf_app, theatre, new_page, make_user, login_as, monkeypatch
) -> None:
    # The stream re-reads the map on each keep-alive as well: with none due before every
    # wait here has given up, only the change's push can bring the seats the buyer holds.
    monkeypatch.setitem(csrf_app.config, "SSE_KEEPALIVE_SECONDS", 10 * WAIT)
    seats_url = f"{live_server.url}/events/{theatre.id}/seats"
    watcher = new_page(viewport=DESKTOP)
    watcher.add_init_script(COUNT_SSE_MESSAGES)
    watcher.goto(seats_url)
    watcher.evaluate("window.__notReloaded = true")
    watcher.wait_for_function("() => window.__sseMessages >= 1")  # the stream is open
    expect(watcher.locator(".remaining").first).to_have_text("54 left")
    # The watcher has ticked a seat of its own: live updates must not untick it.
    watcher.get_by_role("checkbox", name="Stalls, Row C seat 5, Stalls, USD 25.00").check()

    buyer = new_page(viewport=PHONE)
    log_in(buyer, live_server, csrf_app, make_user(), login_as)
    buyer.goto(seats_url)
    buyer.get_by_role("checkbox", name="Stalls, Row B seat 11, Stalls, USD 25.00").check()
    buyer.get_by_role("checkbox", name="Stalls, Row B seat 12, Stalls, USD 25.00").check()
    buyer.get_by_role("button", name="Hold the chosen seats").click()
    expect(buyer).to_have_url(re.compile(r"/account/bookings/[A-Z0-9]+$"))

    for number in (11, 12):
        held = watcher.get_by_role("checkbox", name=f"Stalls, Row B seat {number}, held")
        expect(held).to_be_disabled()
    assert watcher.evaluate("window.__notReloaded") is True
    expect(
        watcher.get_by_role("checkbox", name="Stalls, Row C seat 5, Stalls, USD 25.00")
    ).to_be_checked()
    expect(watcher.locator(".remaining").first).to_have_text("52 left")


def test_seats_taken_meanwhile_turn_grey_and_the_nearest_pair_is_offered(
    live_server, csrf_app, theatre, new_page, make_user, login_as
) -> None:
    """On a phone whose live stream is down (a flaky network), the buyer picks two seats that
    another browser has just taken: the answer greys them out in place and offers the nearest
    free pair, which one tap holds."""
    seats_url = f"{live_server.url}/events/{theatre.id}/seats"
    buyer = new_page(viewport=PHONE)
    buyer.route("**/live?*", lambda route: route.abort())
    log_in(buyer, live_server, csrf_app, make_user(), login_as)
    buyer.goto(seats_url)
    buyer.evaluate("window.__sameDocument = true")
    for number in (11, 12):
        buyer.get_by_role(
            "checkbox", name=f"Stalls, Row B seat {number}, Stalls, USD 25.00"
        ).check()

    rival = new_page(viewport=DESKTOP)
    log_in(rival, live_server, csrf_app, make_user(), login_as)
    rival.goto(seats_url)
    for number in (11, 12):
        rival.get_by_role(
            "checkbox", name=f"Stalls, Row B seat {number}, Stalls, USD 25.00"
        ).check()
    rival.get_by_role("button", name="Hold the chosen seats").click()
    expect(rival).to_have_url(re.compile(r"/account/bookings/[A-Z0-9]+$"))

    buyer.get_by_role("button", name="Hold the chosen seats").click()
    answer = buyer.get_by_role("alert")
    expect(answer).to_contain_text(
        "Sorry, Stalls, Row B seat 11 and Stalls, Row B seat 12 were just taken."
    )
    for number in (11, 12):
        taken = buyer.get_by_role("checkbox", name=f"Stalls, Row B seat {number}, held")
        expect(taken).to_be_disabled()
        expect(taken).not_to_be_checked()
    offer = buyer.get_by_role("button", name=re.compile(r"^Hold Stalls, Row B seat \d+ and"))
    expect(offer).to_be_visible()
    assert buyer.evaluate("window.__sameDocument") is True  # answered in place, no reload
    check_accessibility(buyer)
    offer.scroll_into_view_if_needed()
    screenshot(buyer, "seatmap-taken-phone")

    offer.click()
    expect(buyer).to_have_url(re.compile(r"/account/bookings/[A-Z0-9]+$"))
    expect(buyer.get_by_text("Stalls, Row B seat", exact=False).first).to_be_visible()


def test_a_choice_leaving_a_single_seat_is_warned_about_before_it_is_sent(
    live_server, csrf_app, theatre, new_page, make_user, login_as
) -> None:
    page = new_page(viewport=PHONE)
    log_in(page, live_server, csrf_app, make_user(), login_as)
    page.goto(f"{live_server.url}/events/{theatre.id}/seats")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.method))
    for number in (2, 3):  # Circle D1 would be left alone at the row's end
        page.get_by_role("checkbox", name=f"Circle, Row D seat {number}, Circle, USD 15.00").check()
    page.get_by_role("button", name="Hold the chosen seats").click()

    warning = page.get_by_role("alert")
    expect(warning).to_contain_text("Circle, Row D seat 1 would be left on its own")
    assert "POST" not in requests  # warned in the page, nothing sent yet
    check_accessibility(page)
    screenshot(page, "seatmap-single-seat-phone")

    page.get_by_role("button", name="Hold my choice anyway").click()
    expect(page).to_have_url(re.compile(r"/account/bookings/[A-Z0-9]+$"))
    expect(page.get_by_text("Circle, Row D seat 2; Circle, Row D seat 3")).to_be_visible()


def test_the_seat_map_works_without_javascript(
    live_server, csrf_app, theatre, new_page, make_user, login_as
) -> None:
    page = new_page(viewport=PHONE, javascript=False)
    log_in(page, live_server, csrf_app, make_user(), login_as)
    page.goto(f"{live_server.url}/events/{theatre.id}/seats")
    page.get_by_role("checkbox", name="Circle, Row D seat 9, Circle, USD 15.00").check()
    page.get_by_role("button", name="Hold the chosen seats").click()
    expect(page).to_have_url(re.compile(r"/account/bookings/[A-Z0-9]+$"))

    page.goto(f"{live_server.url}/events/{theatre.id}/seats")
    page.get_by_label("Number of seats").fill("4")
    page.get_by_role("button", name="Find best seats").click()
    expect(page).to_have_url(re.compile(r"/account/bookings/[A-Z0-9]+$"))


def test_the_seat_page_is_accessible_and_fits_a_phone(live_server, theatre, new_page) -> None:
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page = new_page(viewport=viewport)
        page.goto(f"{live_server.url}/events/{theatre.id}/seats")
        check_accessibility(page)
        # The map scrolls inside its own box; the page itself never scrolls sideways.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        first_seat = page.get_by_role("checkbox", name="Stalls, Row A seat 3, Stalls, USD 25.00")
        first_seat.focus()
        page.keyboard.press("Space")
        expect(first_seat).to_be_checked()
        screenshot(page, f"seatmap-{name}")


def test_the_editor_is_accessible(
    live_server, csrf_app, db: Session, theatre, new_page, login_as
) -> None:
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page = new_page(viewport=viewport)
        log_in(page, live_server, csrf_app, theatre.organizer, login_as)
        page.goto(f"{live_server.url}/organizer/events/{theatre.id}/seats")
        check_accessibility(page)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        screenshot(page, f"seatmap-editor-{name}")

    # Block a whole row with the plain form (htmx swaps the editor in place).
    page.evaluate("window.__sameDocument = true")
    page.get_by_role("checkbox", name="All of Circle, Row D").check()
    page.get_by_label("Action").select_option("block")
    page.get_by_role("button", name="Apply to ticked seats").click()
    expect(page.get_by_text("18 seats changed.")).to_be_visible()
    expect(
        page.get_by_role("checkbox", name="Circle, Row D seat 1, Circle, blocked")
    ).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True


def test_a_large_venue_overview_is_accessible_and_opens_a_part(
    live_server, theatre, new_page, monkeypatch
) -> None:
    from app.domain.ticketing import seatmap_view

    monkeypatch.setattr(seatmap_view, "PAGE_SEATS", 30)  # the theatre's 72 seats: four parts
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page = new_page(viewport=viewport)
        page.goto(f"{live_server.url}/events/{theatre.id}/seats")
        expect(page.get_by_role("navigation", name="Sections")).to_be_visible()
        expect(page.get_by_role("checkbox")).to_have_count(0)
        check_accessibility(page)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        screenshot(page, f"seatmap-overview-{name}")
    page.get_by_role("link", name="Circle").click()
    expect(
        page.get_by_role("checkbox", name="Circle, Row D seat 9, Circle, USD 15.00")
    ).to_be_visible()
    expect(page.get_by_role("link", name="Circle")).to_have_attribute("aria-current", "page")
