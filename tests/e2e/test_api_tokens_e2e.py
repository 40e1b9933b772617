"""In Chromium at phone width: make an API token on the account page, see it once, use it,
revoke it. Accessibility is checked and a screenshot taken."""

from __future__ import annotations

import pytest
import requests
from flask import Flask
from playwright.sync_api import expect

from tests.browser import PHONE, check_accessibility, log_in, page_weight, screenshot

pytestmark = pytest.mark.e2e


def test_make_use_and_revoke_a_token_on_a_phone(
    csrf_app: Flask, live_server, new_page, db, make_user, login_as
) -> None:  # noqa: ANN001
    user = make_user(name="Tomás Token")
    db.commit()
    page = new_page(viewport=PHONE)
    log_in(page, live_server, csrf_app, user, login_as)
    page.goto(live_server.url + "/account/tokens")
    expect(page.get_by_text("You have no tokens yet.")).to_be_visible()
    check_accessibility(page)
    assert page_weight(page) < 300_000

    page.get_by_label("Name").fill("door scanner")
    page.get_by_label("checkin: Check tickets in at the door").check()
    page.get_by_label("events:read: Read events, tiers and availability").check()
    page.get_by_label("Expires").select_option("30")
    page.get_by_role("button", name="Make the token").click()
    field = page.get_by_label("Token", exact=True)
    raw = field.input_value()
    assert raw.startswith("eh_pat_")
    expect(page.get_by_label("Name")).to_have_value("")  # a fresh form for the next token
    check_accessibility(page)
    screenshot(page, "api-tokens-phone")

    me = requests.get(
        live_server.url + "/api/v1/me", headers={"Authorization": f"Bearer {raw}"}, timeout=10
    )
    assert me.status_code == 200 and me.json()["scopes"] == ["checkin", "events:read"]

    page.goto(live_server.url + "/account/tokens")
    expect(page.get_by_text("Your new token")).to_have_count(0)
    expect(page.locator("body")).to_contain_text("last used")
    page.get_by_role("button", name="Revoke “door scanner”").click()
    expect(page.get_by_text("The token “door scanner” is revoked.")).to_be_visible()
    expect(page.locator("body")).to_contain_text("revoked")
    gone = requests.get(
        live_server.url + "/api/v1/me", headers={"Authorization": f"Bearer {raw}"}, timeout=10
    )
    assert gone.status_code == 401 and gone.json()["code"] == "revoked_token"
