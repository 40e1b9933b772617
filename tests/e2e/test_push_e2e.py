"""In Chromium on a phone: the push section of the notification settings. With JavaScript and
notifications allowed, the button registers the push service worker, subscribes and hands the
subscription to the site; the page then lists this browser. Headless Chromium has no push
service to talk to here, so PushManager's subscribe/getSubscription answer with a browser
subscription the test made (its endpoint a local push service); everything else is real, and
the test then delivers a push to that endpoint and decrypts it, and hands the service worker a
push through the DevTools protocol to see it shown. Without JavaScript the page
says why it cannot subscribe, and removing a browser is a plain form. axe (with JavaScript);
screenshots at 390 px and on desktop."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.base import utcnow
from app.domain.notifications import push
from app.domain.notifications.models import Channel
from app.domain.notifications.push_models import PushSubscription
from app.domain.notifications.queue import notify
from app.integrations import push_web
from jobs.notifications import deliver_due
from tests.browser import DESKTOP, PHONE, check_accessibility, log_in, screenshot
from tests.factories.push import Browser
from tests.integrations.fake_api import serve
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

# PushManager without a push service: subscribing hands back the test's subscription.
FAKE_PUSH_MANAGER = """
(() => {
  const json = %s;
  const fake = { endpoint: json.endpoint, toJSON: () => json, unsubscribe: async () => true };
  PushManager.prototype.subscribe = async function (options) {
    if (!options.userVisibleOnly || !(options.applicationServerKey instanceof Uint8Array)) {
      throw new Error("bad options");
    }
    const key = Array.from(options.applicationServerKey);
    localStorage.setItem("applicationServerKey", JSON.stringify(key));
    return fake;
  };
  PushManager.prototype.getSubscription = async function () {
    return localStorage.getItem("applicationServerKey") ? fake : null;
  };
})();
"""


@pytest.fixture
def push_service():  # noqa: ANN201
    for api in serve():
        api.route("POST", r"/push/\w+", (201, {}))
        yield api


def test_a_browser_opts_in_and_gets_a_push(
    live_server,
    csrf_app: Flask,
    db: Session,
    new_page,
    make_user,
    make_seated_booking,
    login_as,
    push_service,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # noqa: ANN001
    monkeypatch.setitem(csrf_app.config, "PUSH_ALLOW_LOCAL_ENDPOINTS", True)
    user = make_user(name="Pia Push")
    booking = make_seated_booking(buyer=user, quantity=1)
    db.commit()
    deliver_due(csrf_app.extensions["db"].session, csrf_app.config)  # the booking's own
    browser = Browser(f"{push_service.base_url}/push/e2e")
    page = new_page(viewport=PHONE)
    page.context.grant_permissions(["notifications"], origin=live_server.url)
    page.add_init_script(FAKE_PUSH_MANAGER % json.dumps(browser.subscription_json()))
    log_in(page, live_server, csrf_app, user, login_as)

    page.goto(f"{live_server.url}/account/notifications/settings")
    section = page.locator("#push")
    expect(section.get_by_role("status")).to_have_text(
        "This browser does not get push notifications yet."
    )
    expect(section.get_by_text("None yet.")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "push-settings-phone")

    section.get_by_role("button", name="Get push notifications in this browser").click()

    expect(section.get_by_role("status")).to_have_text("This browser gets push notifications.")
    expect(section.locator(".push-browsers li")).to_have_count(1)
    expect(section.locator(".push-browsers li")).to_contain_text("Chrome on Linux (this browser)")
    scope = f"{live_server.url}/account/notifications/push/"
    assert (
        page.evaluate(
            "async (scope) => { const r = await navigator.serviceWorker.getRegistration(scope);"
            " return r && r.active && r.active.scriptURL; }",
            scope,
        )
        == f"{scope}sw.js"
    )
    keys = push_web.vapid_keys(csrf_app.config)
    assert keys is not None
    used = page.evaluate("JSON.parse(localStorage.getItem('applicationServerKey'))")
    assert bytes(used) == push_web.b64url_decode(keys.public_key)
    check_accessibility(page)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "push-settings-subscribed-phone")

    # The service worker shows a push as a notification leading to the page it names (the
    # DevTools protocol hands it the message a push service would).
    cdp = page.context.new_cdp_session(page)
    registrations: list[dict] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda e: registrations.extend(e["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    # Events arrive while playwright talks to the browser: ask it something until they have.
    [registration] = wait_until(
        lambda: page.evaluate("1") and [r for r in registrations if r["scopeURL"] == scope],
        what="the push worker's registration",
    )
    message = {
        "title": "Booking X is cancelled",
        "body": "See why.",
        "url": "https://elsewhere.test/account/bookings/X?a=1",
    }

    def shown_notifications() -> list[dict]:
        return page.evaluate(
            """async (scope) => {
              const registration = await navigator.serviceWorker.getRegistration(scope);
              const shown = await registration.getNotifications();
              return shown.map((n) => ({title: n.title, body: n.body, url: n.data.url}));
            }""",
            scope,
        )

    def pushed_and_shown() -> list[dict] | None:
        # A message handed to a worker Chromium is just starting or stopping is sometimes
        # dropped (as a push service may retry): hand it again until one shows.
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {
                "origin": live_server.url,
                "registrationId": registration["registrationId"],
                "data": json.dumps(message),
            },
        )
        try:
            return wait_until(shown_notifications, timeout=10, what="the notification")
        except AssertionError:
            return None

    shown = wait_until(pushed_and_shown, what="a push shown as a notification")
    expected = {
        "title": "Booking X is cancelled",
        "body": "See why.",
        "url": f"{live_server.url}/account/bookings/X?a=1",
    }
    assert shown and all(notification == expected for notification in shown)

    db.expire_all()
    subscription = db.scalars(select(PushSubscription)).one()
    assert subscription.user_id == user.id and subscription.endpoint == browser.endpoint
    notify(
        db,
        key=f"e2e:{booking.id}:booking_cancelled:push",
        kind="booking_cancelled",
        channel=Channel.PUSH,
        now=utcnow(),
        user_id=user.id,
        recipient="browser",
        payload={"booking_id": booking.id},
    )
    db.commit()
    deliver_due(csrf_app.extensions["db"].session, csrf_app.config)
    [delivered] = push_service.sent("POST", "/push/e2e")
    assert browser.read(delivered)["title"] == f"Booking {booking.reference} is cancelled"

    desktop = new_page(viewport=DESKTOP)
    log_in(desktop, live_server, csrf_app, user, login_as)
    desktop.goto(f"{live_server.url}/account/notifications/settings#push")
    expect(desktop.locator(".push-browsers li")).to_have_count(1)
    screenshot(desktop, "push-settings-desktop")


def test_without_javascript_the_page_explains_and_removing_works(
    live_server, csrf_app: Flask, db: Session, new_page, make_user, login_as
) -> None:  # noqa: ANN001
    user = make_user(name="Noa Noscript")
    db.flush()
    for n in range(2):
        push.subscribe(
            db,
            user.id,
            push.parse_subscription(
                Browser(f"https://push.example.test/{n}").subscription_json(), allow_local=False
            ),
            label=["Firefox on Android", "Safari on iPhone"][n],
            limit=10,
            now=utcnow(),
        )
    db.commit()
    page = new_page(viewport=PHONE, javascript=False)
    log_in(page, live_server, csrf_app, user, login_as)

    page.goto(f"{live_server.url}/account/notifications/settings")
    section = page.locator("#push")
    expect(section).to_contain_text("Turning on push notifications needs JavaScript")
    expect(
        section.get_by_role("button", name="Get push notifications in this browser")
    ).to_be_hidden()
    expect(section.locator(".push-browsers li")).to_have_count(2)
    screenshot(page, "push-settings-nojs-phone")  # (axe needs JavaScript: run on the same
    # markup in the test above)

    section.locator(".push-browsers li", has_text="Firefox on Android").get_by_role(
        "button", name="Remove"
    ).click()

    expect(page.get_by_text("That browser no longer gets push notifications.")).to_be_visible()
    expect(page.locator(".push-browsers li")).to_have_count(1)
    expect(page.locator(".push-browsers li")).to_contain_text("Safari on iPhone")
