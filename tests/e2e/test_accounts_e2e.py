"""In Chromium: register, confirm the email from the outbox, log in, turn on 2FA, log out,
and log in again with a TOTP code. Accessibility is checked and screenshots taken on the way."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import expect

from tests.browser import (
    DESKTOP,
    PHONE,
    check_accessibility,
    deliver_and_read_link,
    page_weight,
    screenshot,
)

pytestmark = pytest.mark.e2e

EMAIL = "robin@example.test"
PASSWORD = "robin's sturdy passphrase"


@pytest.fixture(scope="module", autouse=True)
def _links_point_at_the_live_server(csrf_app: Flask, live_server) -> Iterator[None]:  # noqa: ANN001
    """Mail links are built from BASE_URL; here that is the test server's random port."""
    previous = csrf_app.config["BASE_URL"]
    csrf_app.config["BASE_URL"] = live_server.url
    yield
    csrf_app.config["BASE_URL"] = previous


def _look(page, name: str) -> None:  # noqa: ANN001
    check_accessibility(page)
    screenshot(page, name)


def test_register_verify_login_enable_2fa_and_log_in_with_a_code(
    csrf_app: Flask,
    live_server,
    new_page,
    db,  # noqa: ANN001
) -> None:
    base = live_server.url
    phone = new_page(viewport=PHONE)
    for path, name in (
        ("/register", "accounts-register-phone"),
        ("/login", "accounts-login-phone"),
    ):
        phone.goto(base + path)
        _look(phone, name)

    page = new_page(viewport=DESKTOP)
    page.goto(base + "/register")
    _look(page, "accounts-register-desktop")
    page.get_by_label("Your name").fill("Robin Reader")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    link = deliver_and_read_link(csrf_app, EMAIL, "/verify/")
    assert urlsplit(link).netloc == urlsplit(base).netloc
    page.goto(link)
    expect(page.get_by_text("your email address is confirmed")).to_be_visible()

    # Log in (the verification link leads to the login page).
    assert urlsplit(page.url).path == "/login"
    _look(page, "accounts-login-desktop")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Robin Reader")).to_be_visible()

    # Profile, then two-factor enrolment.
    page.goto(base + "/account/profile")
    _look(page, "accounts-profile-desktop")
    assert page_weight(page) < 300_000
    page.get_by_role("link", name="Set up two-factor authentication").click()
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    _look(page, "accounts-2fa-setup-desktop")
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")

    phone.context.add_cookies(page.context.cookies())
    phone.goto(base + "/account/2fa")
    _look(phone, "accounts-2fa-setup-phone")
    phone.goto(base + "/account/profile")
    _look(phone, "accounts-profile-phone")

    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
    assert page.locator("ol.codes li").count() == 10
    _look(page, "accounts-recovery-codes-desktop")
    page.get_by_role("link", name="I saved them, continue").click()
    expect(page.get_by_text("On", exact=True).first).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()

    # Log in again: password, then a code. The enrolment used the current time step, so use
    # the next one (accepted within the one-step drift window, and never used before).
    page.goto(base + "/login")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    _look(page, "accounts-login-2fa-desktop")
    page.get_by_label("Code from your authenticator app").fill(
        pyotp.TOTP(secret).at(time.time() + 30)
    )
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Robin Reader")).to_be_visible()
    page.goto(base + "/account/profile")
    expect(page.get_by_text("since", exact=False).first).to_be_visible()


def test_pages_work_without_javascript(live_server, new_page) -> None:  # noqa: ANN001
    page = new_page(viewport=PHONE, javascript=False)
    page.goto(live_server.url + "/login")
    page.get_by_label("Email address").fill("nobody@example.test")
    page.get_by_label("Password").fill("whatever it is")
    page.get_by_role("button", name="Log in").click()
    expect(
        page.get_by_text("That email and password do not match an account.").first
    ).to_be_visible()


def test_admin_reviews_an_application(
    csrf_app: Flask,
    live_server,
    new_page,
    db,
    make_user,
    login_as,  # noqa: ANN001
) -> None:
    from app.domain.accounts.models import OrganizerApplication, Role

    admin = make_user(role=Role.ADMIN, name="Ada Admin")
    applicant = make_user(name="Theo Theatre", email="theo@example.test")
    db.add(
        OrganizerApplication(
            user_id=applicant.id,
            organization_name="Lakeside Theatre",
            details="Plays every Friday.\nAbout 80 seats.",
        )
    )
    db.commit()
    client = csrf_app.test_client()
    login_as(client, admin)
    cookie = client.get_cookie("session")
    base = live_server.url
    for viewport, suffix in ((DESKTOP, "desktop"), (PHONE, "phone")):
        page = new_page(viewport=viewport)
        page.context.add_cookies([{"name": "session", "value": cookie.value, "url": base}])
        for path, name in (
            ("/admin/", "admin-index"),
            ("/admin/applications", "admin-apps"),
            ("/admin/users", "admin-users"),
            ("/admin/audit", "admin-audit"),
        ):
            page.goto(base + path)
            _look(page, f"accounts-{name}-{suffix}")
    page.goto(base + "/admin/applications")
    page.get_by_role("button", name="Approve Lakeside Theatre").click()
    expect(page.get_by_text("Approved Lakeside Theatre.")).to_be_visible()
    page.goto(base + "/admin/users")
    page.get_by_label("Name or email").fill("theo@")
    expect(page.locator("#users-table tbody tr")).to_have_count(1)  # htmx narrowed the table
    expect(page.get_by_label("Role of Theo Theatre")).to_have_value("organizer")
