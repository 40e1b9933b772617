"""Browser fixtures: Debian's Chromium driven by playwright, with axe-core for accessibility."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import expect

from jobs.notifications import deliver_due
from jobs.relay import deliver_pending
from tests.waiting import WAIT

AXE = Path(__file__).resolve().parent / "e2e" / "vendor" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

# Pages and assertions wait for what they expect as long as any wait in the suite (playwright's
# `expect` gives up after 5 s by default, too soon on a machine busy with other test runs).
expect.set_options(timeout=WAIT * 1000)


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail(
            "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
        )
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True
        )
        yield instance
        instance.close()


@pytest.fixture
def new_page(browser):  # noqa: ANN001, ANN201
    """Factory: `new_page(viewport=PHONE, javascript=True)` opens a page in a fresh context."""
    contexts = []

    def open_page(viewport: dict[str, int] | None = None, javascript: bool = True):  # noqa: ANN202
        context = browser.new_context(viewport=viewport or DESKTOP, java_script_enabled=javascript)
        context.set_default_timeout(WAIT * 1000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def check_accessibility(page) -> None:  # noqa: ANN001
    """Run axe-core on the current page; fail on any serious or critical violation."""
    # Evaluated rather than added as a <script>: the site's CSP refuses inline scripts.
    page.evaluate(AXE.read_text())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, json.dumps(
        [
            {"id": v["id"], "help": v["help"], "nodes": [n["html"] for n in v["nodes"][:3]]}
            for v in bad
        ],
        indent=1,
    )


def screenshot(page, name: str) -> Path:  # noqa: ANN001
    """Save a full-page screenshot under test-artifacts/ for a human to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def page_weight(page) -> int:  # noqa: ANN001
    """Bytes transferred for the current page and its resources (from the Resource Timing API)."""
    return int(
        page.evaluate(
            "() => performance.getEntriesByType('navigation')"
            ".concat(performance.getEntriesByType('resource'))"
            ".reduce((n, e) => n + (e.encodedBodySize || 0), 0)"
        )
    )


def log_in(page, live_server, csrf_app: Flask, user, login_as) -> None:  # noqa: ANN001
    """Sign the browser in with the session cookie a completed login leaves behind."""
    client = csrf_app.test_client()
    login_as(client, user)
    cookie = client.get_cookie("session")
    page.context.add_cookies([{"name": "session", "value": cookie.value, "url": live_server.url}])


def deliver_and_read_link(csrf_app: Flask, to: str, path: str) -> str:
    """Deliver pending mail (outbox and notifications) to the outbox folder, then find `path`
    in the newest message to `to` (links are built from BASE_URL: point it at the live server
    first)."""
    with csrf_app.extensions["db"].session() as session:
        deliver_pending(session, csrf_app.config)
        session.commit()
    deliver_due(csrf_app.extensions["db"].session, csrf_app.config, limit=1000)
    folder = Path(csrf_app.config["MAIL_OUTBOX_DIR"])
    for eml in sorted(folder.glob("*.eml"), reverse=True):
        message = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
        if message["To"] != to:
            continue
        text = message.get_body(("plain",)).get_content()
        match = re.search(r"https?://\S+" + re.escape(path) + r"\S+", text)
        if match:
            return match.group(0)
    raise AssertionError(f"no {path} link mailed to {to} in {folder}")
