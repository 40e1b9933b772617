"""An admin suspends a user who is signed in elsewhere: their next click is refused."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.domain.accounts.models import Role
from tests.browser import PHONE, check_accessibility, log_in, screenshot

pytestmark = pytest.mark.e2e


def test_a_signed_in_user_is_refused_at_the_next_click_after_suspension(
    db, csrf_app, live_server, new_page, make_user, make_seated_booking, login_as
) -> None:  # noqa: ANN001
    admin = make_user(role=Role.ADMIN, name="Ada Admin")
    user = make_user(name="Sam Suspect")
    booking = make_seated_booking(buyer=user, title="Harbour Concert")
    db.commit()

    user_page = new_page(viewport=PHONE)
    log_in(user_page, live_server, csrf_app, user, login_as)
    user_page.goto(f"{live_server.url}/account/profile")
    expect(user_page.get_by_role("heading", level=1)).to_be_visible()

    admin_page = new_page(viewport=PHONE)
    log_in(admin_page, live_server, csrf_app, admin, login_as)
    admin_page.goto(f"{live_server.url}/admin/users")
    admin_page.get_by_role("link", name="Sam Suspect").click()
    expect(admin_page.get_by_role("heading", name="Sam Suspect")).to_be_visible()
    expect(admin_page.get_by_role("link", name=booking.reference)).to_be_visible()
    check_accessibility(admin_page)
    screenshot(admin_page, "admin-user-phone")
    admin_page.get_by_label("Reason the user will read").fill("Reselling tickets at a markup.")
    admin_page.get_by_role("button", name="Suspend Sam Suspect").click()
    expect(admin_page.get_by_text("Sam Suspect is suspended.")).to_be_visible()
    expect(admin_page.locator("#account-status")).to_contain_text("by Ada Admin")
    check_accessibility(admin_page)
    screenshot(admin_page, "admin-user-suspended-phone")

    user_page.get_by_role("link", name="My bookings").click()
    expect(user_page).to_have_url(re.compile(r"/login"))
    expect(user_page.get_by_text("This account is suspended")).to_be_visible()
