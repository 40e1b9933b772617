"""In Chromium at phone width: the API's docs page lists the operations of its OpenAPI
document; without JavaScript it says where the document is. Accessibility is checked."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import PHONE, check_accessibility, page_weight, screenshot

pytestmark = pytest.mark.e2e


def test_docs_page_lists_the_operations_on_a_phone(live_server, new_page) -> None:  # noqa: ANN001
    page = new_page(viewport=PHONE)
    page.goto(live_server.url + "/static/api/docs.html")
    operation = page.locator("summary", has_text="Search events")
    expect(operation).to_be_visible()
    expect(page.locator("summary", has_text="Sign in for a token pair")).to_be_visible()
    operation.click()
    expect(page.get_by_role("cell", name="cursor", exact=True)).to_be_visible()
    check_accessibility(page)
    assert page_weight(page) < 300_000
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "api-docs-phone")

    plain = new_page(viewport=PHONE, javascript=False)
    plain.goto(live_server.url + "/static/api/docs.html")
    expect(plain.get_by_role("link", name="/api/v1/openapi.json")).to_be_visible()
    expect(plain.get_by_text("the document itself is plain JSON")).to_be_visible()
