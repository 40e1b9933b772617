"""In Chromium on a phone: the bell's count goes from nothing to 1 without reloading when a
notification is committed, the notifications page lists it and marks it read in place; the
settings and unsubscribe pages; without JavaScript the same page works by plain forms. axe on
each page; screenshots at 390 px and on desktop."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from app.domain.notifications.models import Channel
from app.domain.notifications.preferences import REMINDERS, unsubscribe_token
from tests.browser import DESKTOP, PHONE, check_accessibility, log_in, page_weight, screenshot
from tests.factories.notifications import shown_in_app

pytestmark = pytest.mark.e2e


def no_sideways_scroll(page) -> None:  # noqa: ANN001
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def tell(db: Session, user, kind: str, n: int, **payload) -> None:  # noqa: ANN001
    shown_in_app(db, user.id, kind, "e2e", n, **payload)


def test_the_bell_follows_live_and_the_page_marks_read(
    live_server, csrf_app: Flask, db: Session, new_page, make_user, make_event, login_as
) -> None:  # noqa: ANN001
    user = make_user(name="Nia Reader")
    event = make_event(title="Harbour Lights Festival")
    db.commit()
    page = new_page(viewport=PHONE)
    log_in(page, live_server, csrf_app, user, login_as)
    page.goto(f"{live_server.url}/events")
    bell = page.locator("#bell")
    expect(bell).to_have_text("Notifications")
    # Committed before or after the page's stream opens, the count reaches the bell: a stream
    # sends the current count when it opens, and again after every change.
    tell(db, user, "event_changed", 1, event_id=event.id)  # committed from the test
    expect(bell).to_have_text("Notifications (1)")
    expect(page.get_by_role("link", name="Notifications (1 unread)")).to_be_visible()
    assert page.url == f"{live_server.url}/events"  # no reload

    bell.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    item = page.locator(".notification.unread")
    expect(item).to_contain_text("“Harbour Lights Festival” has changed")
    check_accessibility(page)
    no_sideways_scroll(page)
    assert page_weight(page) < 300_000
    screenshot(page, "notifications-phone")

    page.get_by_role("button", name="Mark read: “Harbour Lights Festival” has changed").click()
    expect(page.locator(".notification.unread")).to_have_count(0)
    expect(bell).to_have_text("Notifications")
    check_accessibility(page)

    desktop = new_page(viewport=DESKTOP)
    log_in(desktop, live_server, csrf_app, user, login_as)
    tell(db, user, "booking_confirmed", 2, booking_id=987654)
    desktop.goto(f"{live_server.url}/account/notifications")
    expect(desktop.locator(".notification.unread")).to_have_count(1)
    screenshot(desktop, "notifications-desktop")

    # Following a notification marks it read and opens what it is about.
    desktop.get_by_role("button", name="“Harbour Lights Festival” has changed").click()
    expect(desktop.get_by_role("heading", name="Harbour Lights Festival")).to_be_visible()


def test_without_javascript(
    live_server, csrf_app: Flask, db: Session, new_page, make_user, login_as
) -> None:  # noqa: ANN001
    user = make_user()
    db.commit()
    tell(db, user, "sales_digest", 1)
    tell(db, user, "reminder_24h", 2)
    page = new_page(viewport=PHONE, javascript=False)
    log_in(page, live_server, csrf_app, user, login_as)
    page.goto(f"{live_server.url}/account/notifications")
    expect(page.get_by_role("link", name="Notifications (2 unread)")).to_be_visible()
    page.get_by_role("button", name="Mark read: Your sales summary is ready").click()
    expect(page.get_by_role("link", name="Notifications (1 unread)")).to_be_visible()
    page.get_by_role("button", name="Mark all read").click()
    expect(page.locator(".notification.unread")).to_have_count(0)
    expect(page.locator("#bell")).to_have_text("Notifications")


def test_settings_and_unsubscribe_pages(
    live_server, csrf_app: Flask, db: Session, new_page, make_user, login_as
) -> None:  # noqa: ANN001
    user = make_user()
    db.commit()
    for viewport, name in ((PHONE, "phone"), (DESKTOP, "desktop")):
        page = new_page(viewport=viewport)
        log_in(page, live_server, csrf_app, user, login_as)
        page.goto(f"{live_server.url}/account/notifications/settings")
        reminders = page.get_by_role("group", name="Event reminders")
        expect(reminders.get_by_label("Email")).to_be_checked()
        check_accessibility(page)
        no_sideways_scroll(page)
        screenshot(page, f"notification-settings-{name}")

    reminders.get_by_label("Email").uncheck()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Your notification settings are saved.")).to_be_visible()
    expect(
        page.get_by_role("group", name="Event reminders").get_by_label("Email")
    ).not_to_be_checked()

    token = unsubscribe_token(str(csrf_app.config["SECRET_KEY"]), user.id, REMINDERS, Channel.SMS)
    for viewport, name in ((PHONE, "phone"), (DESKTOP, "desktop")):
        stranger = new_page(viewport=viewport)  # no session: the link is the authority
        stranger.goto(f"{live_server.url}/unsubscribe/{token}")
        expect(
            stranger.get_by_text("Stop getting event reminders by text message?")
        ).to_be_visible()
        check_accessibility(stranger)
        no_sideways_scroll(stranger)
        screenshot(stranger, f"unsubscribe-{name}")
    stranger.get_by_role("button", name="Unsubscribe").click()
    expect(stranger.get_by_role("status")).to_contain_text("no longer get event reminders")
    screenshot(stranger, "unsubscribe-done-desktop")
