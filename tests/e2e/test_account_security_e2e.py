"""In Chromium, at phone and desktop width: an account that signs in through a provider
confirms who it is with a code by email before it changes its address, and manages its
sign-in providers on the profile. Accessibility is checked and screenshots taken."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select, update

from app.domain.accounts.models import OAuthIdentity, UserSession
from app.domain.base import utcnow
from app.domain.notifications.mail import EMAIL_TOPIC
from app.domain.outbox import OutboxMessage
from tests.browser import DESKTOP, PHONE, check_accessibility, log_in, screenshot

pytestmark = pytest.mark.e2e


def _mailed_code(db, to: str) -> str:  # noqa: ANN001
    db.expire_all()
    payloads = db.scalars(
        select(OutboxMessage.payload)
        .where(OutboxMessage.topic == EMAIL_TOPIC)
        .order_by(OutboxMessage.id.desc())
    )
    text = next(p["text"] for p in payloads if p["to"] == to)
    return re.search(r"\b(\d{6})\b", text).group(1)


@pytest.mark.parametrize(("viewport", "width"), [(PHONE, "phone"), (DESKTOP, "desktop")])
def test_confirm_by_code_then_change_the_address(
    csrf_app: Flask, live_server, new_page, db, make_user, login_as, viewport, width
) -> None:  # noqa: ANN001
    email = f"social-{width}@example.test"
    user = make_user(email=email, name="Sasha Social")
    user.password_hash = None
    db.add_all(
        [
            OAuthIdentity(user_id=user.id, provider="github", subject=f"gh-{width}", email=email),
            OAuthIdentity(user_id=user.id, provider="google", subject=f"g-{width}"),
        ]
    )
    db.commit()
    page = new_page(viewport=viewport)
    log_in(page, live_server, csrf_app, user, login_as)
    db.execute(  # logged in a while ago: changes need a fresh proof
        update(UserSession)
        .where(UserSession.user_id == user.id)
        .values(created_at=utcnow() - timedelta(minutes=30))
    )
    db.commit()

    page.goto(live_server.url + "/account/profile")
    providers = page.locator("section", has=page.get_by_role("heading", name="Sign-in providers"))
    expect(providers).to_contain_text(f"GitHub ({email})")
    expect(providers.get_by_role("button", name=f"Unlink GitHub ({email})")).to_be_visible()
    check_accessibility(page)
    screenshot(page, f"account-security-profile-{width}")

    page.get_by_label("New email address").fill(f"moved-{width}@example.test")
    page.get_by_role("button", name="Change email").click()
    expect(page.get_by_role("heading", name="Confirm it is you", level=1)).to_be_visible()
    expect(page.get_by_label("Your password")).to_have_count(0)  # it has none
    check_accessibility(page)
    screenshot(page, f"account-security-confirm-{width}")

    page.get_by_role("button", name="Email me a code").click()
    expect(page.get_by_text(f"We sent a code to {email}.")).to_be_visible()
    page.get_by_label("Code from the email").fill("000000")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("That code is not right")).to_have_count(2)  # summary and field
    check_accessibility(page)
    screenshot(page, f"account-security-confirm-wrong-{width}")
    page.get_by_label("Code from the email").fill(_mailed_code(db, email))
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(live_server.url + "/account/profile#email-heading")

    page.get_by_label("New email address").fill(f"moved-{width}@example.test")
    page.get_by_role("button", name="Change email").click()
    expect(page.get_by_text(f"We sent a link to moved-{width}@example.test.")).to_be_visible()

    providers.get_by_role("button", name=f"Unlink GitHub ({email})").click()
    expect(page.get_by_text("Signing in with GitHub is removed from your account.")).to_be_visible()
    expect(page.get_by_text("This is your only way to sign in")).to_be_visible()
    check_accessibility(page)
