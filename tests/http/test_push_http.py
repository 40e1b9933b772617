"""Opting a browser in to push notifications over HTTP, and removing browsers: bad inputs are
refused with a clear error and change nothing; other people's browsers are not found."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.base import NotFound, utcnow
from app.domain.notifications import push
from app.domain.notifications.push_models import DeviceToken, PushSubscription
from app.web.csrf_token import csrf_token_from
from tests.factories.push import Browser, push_subscription_json

URL = "/account/notifications/push/subscriptions"
FIREFOX = "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0"


@pytest.fixture
def buyer(db: Session, client: FlaskClient, make_user, login_as):  # noqa: ANN001, ANN201
    user = make_user()
    db.commit()
    login_as(client, user)
    return user


def _count(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(PushSubscription)) or 0


def test_a_browser_subscribes_and_appears_on_the_settings_page(
    client: FlaskClient, db: Session, buyer
) -> None:  # noqa: ANN001
    body = push_subscription_json("https://fcm.googleapis.com/fcm/send/abc:def")
    response = client.post(URL, json=body, headers={"User-Agent": FIREFOX})

    assert response.status_code == 201
    assert response.json["label"] == "Firefox on Android"
    row = db.get(PushSubscription, response.json["id"])
    assert row is not None and row.user_id == buyer.id
    assert (row.endpoint, row.p256dh, row.auth) == (
        body["endpoint"],
        body["keys"]["p256dh"],
        body["keys"]["auth"],
    )
    page = client.get("/account/notifications/settings").get_data(as_text=True)
    assert "Firefox on Android" in page
    assert f'action="/account/notifications/push/subscriptions/{row.id}/delete"' in page
    assert "needs JavaScript" in page  # what a page without the script says

    again = client.post(URL, json=body)  # the same browser again: one row, keys refreshed
    assert again.status_code == 201 and again.json["id"] == row.id and _count(db) == 1


BAD: list[tuple[str, Any, str]] = [
    ("not https", {**push_subscription_json("http://push.example.test/x")}, "https"),
    ("local http", push_subscription_json("http://127.0.0.1:9/x"), "https"),
    ("ftp", push_subscription_json("ftp://push.example.test/x"), "https"),
    ("no host", push_subscription_json("https:///x"), "web address"),
    ("credentials", push_subscription_json("https://a:b@push.example.test/x"), "web address"),
    ("huge endpoint", push_subscription_json("https://push.example.test/" + "x" * 5000), "long"),
    ("no endpoint", {"keys": push_subscription_json()["keys"]}, "endpoint"),
    ("no keys", {"endpoint": "https://push.example.test/x"}, "keys"),
    ("keys not an object", {"endpoint": "https://push.example.test/x", "keys": "k"}, "keys"),
    ("endpoint a number", {**push_subscription_json(), "endpoint": 12}, "endpoint"),
    ("a list", [push_subscription_json()], "JSON object"),
    ("a string", "subscribe me", "JSON object"),
    (
        "no auth",
        {
            "endpoint": "https://p.test/x",
            "keys": {"p256dh": push_subscription_json()["keys"]["p256dh"]},
        },
        "auth",
    ),
    (
        "auth a number",
        {**push_subscription_json(), "keys": {**push_subscription_json()["keys"], "auth": 5}},
        "auth",
    ),
    (
        "short auth",
        {**push_subscription_json(), "keys": {**push_subscription_json()["keys"], "auth": "AAAA"}},
        "16 bytes",
    ),
    (
        "p256dh not base64url",
        {
            **push_subscription_json(),
            "keys": {**push_subscription_json()["keys"], "p256dh": "<script>"},
        },
        "base64url",
    ),
    (
        "p256dh not on the curve",
        {
            **push_subscription_json(),
            "keys": {**push_subscription_json()["keys"], "p256dh": "BA" + "A" * 85},
        },
        "P-256",
    ),
    (
        "huge p256dh",
        {
            **push_subscription_json(),
            "keys": {**push_subscription_json()["keys"], "p256dh": "A" * 6000},
        },
        "base64url",
    ),
    ("huge body", {**push_subscription_json(), "padding": "x" * 20_000}, "too large"),
]


@pytest.mark.parametrize(("case", "body", "says"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_subscription_is_refused_and_changes_nothing(
    client: FlaskClient, db: Session, buyer, case: str, body: Any, says: str
) -> None:  # noqa: ANN001
    response = client.post(URL, json=body)

    assert response.status_code in (413, 422), (case, response.status_code)
    assert says in response.json["error"]
    assert _count(db) == 0


def test_a_body_that_is_not_json_is_refused(client: FlaskClient, db: Session, buyer) -> None:  # noqa: ANN001
    form = client.post(URL, data={"endpoint": "https://push.example.test/x"})
    broken = client.post(URL, data="{not json", content_type="application/json")
    assert form.status_code == 415 and "JSON" in form.json["error"]
    assert broken.status_code == 422 and "JSON object" in broken.json["error"]
    assert _count(db) == 0


def test_local_endpoints_are_taken_only_when_the_configuration_allows(
    app: Flask, client: FlaskClient, db: Session, buyer, monkeypatch: pytest.MonkeyPatch
) -> None:  # noqa: ANN001
    monkeypatch.setitem(app.config, "PUSH_ALLOW_LOCAL_ENDPOINTS", True)
    for endpoint in ("http://127.0.0.1:8089/push/a", "http://localhost:8089/push/b"):
        assert client.post(URL, json=push_subscription_json(endpoint)).status_code == 201
    assert (
        client.post(URL, json=push_subscription_json("http://10.0.0.1/push/c")).status_code == 422
    )
    assert _count(db) == 2


def test_a_user_has_at_most_the_configured_number_of_browsers(
    app: Flask, client: FlaskClient, db: Session, buyer, monkeypatch: pytest.MonkeyPatch
) -> None:  # noqa: ANN001
    monkeypatch.setitem(app.config, "PUSH_SUBSCRIPTIONS_PER_USER", 2)
    first = push_subscription_json("https://push.example.test/1")
    assert client.post(URL, json=first).status_code == 201
    assert (
        client.post(URL, json=push_subscription_json("https://push.example.test/2")).status_code
        == 201
    )

    refused = client.post(URL, json=push_subscription_json("https://push.example.test/3"))

    assert refused.status_code == 422 and "remove one first" in refused.json["error"]
    assert client.post(URL, json=first).status_code == 201  # one it has already: fine
    assert _count(db) == 2


def test_a_browser_that_subscribed_for_another_account_moves_to_the_latest(
    app: Flask, db: Session, make_user, login_as
) -> None:  # noqa: ANN001
    alice, bob = make_user(), make_user()
    db.commit()
    body = push_subscription_json("https://push.example.test/shared")
    for user in (alice, bob):
        client = app.test_client()
        login_as(client, user)
        assert client.post(URL, json=body).status_code == 201
    db.expire_all()
    assert [s.user_id for s in db.scalars(select(PushSubscription))] == [bob.id]


def test_removing_a_browser_works_without_javascript_and_only_for_its_owner(
    app: Flask, client: FlaskClient, db: Session, buyer, make_user, login_as
) -> None:  # noqa: ANN001
    mine = client.post(URL, json=push_subscription_json("https://push.example.test/mine")).json[
        "id"
    ]
    other = make_user()
    db.commit()
    stranger = app.test_client()
    login_as(stranger, other)
    theirs = stranger.post(URL, json=push_subscription_json("https://push.example.test/t")).json[
        "id"
    ]

    assert client.post(f"{URL}/{theirs}/delete").status_code == 404
    assert client.post(f"{URL}/999999/delete").status_code == 404
    assert client.post(f"{URL}/abc/delete").status_code == 404
    assert _count(db) == 2

    response = client.post(f"{URL}/{mine}/delete")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/account/notifications/settings#push")
    page = client.get("/account/notifications/settings").get_data(as_text=True)
    assert "no longer gets push notifications" in page and "None yet." in page
    assert client.post(f"{URL}/{mine}/delete").status_code == 404  # a replay
    assert _count(db) == 1


def test_subscribing_needs_the_csrf_token(
    csrf_app: Flask, db: Session, make_user, login_as
) -> None:  # noqa: ANN001
    user = make_user()
    db.commit()
    client = csrf_app.test_client()
    login_as(client, user)
    body = push_subscription_json()

    assert client.post(URL, json=body).status_code == 400
    page = client.get("/account/notifications/settings").get_data(as_text=True)
    token = csrf_token_from(page)
    assert client.post(URL, json=body, headers={"X-CSRFToken": token}).status_code == 201
    row_id = db.scalar(select(PushSubscription.id))
    page = client.get("/account/notifications/settings").get_data(as_text=True)
    assert client.post(f"{URL}/{row_id}/delete").status_code == 400
    assert (
        client.post(
            f"{URL}/{row_id}/delete", data={"csrf_token": csrf_token_from(page)}
        ).status_code
        == 303
    )


def test_the_service_worker_is_served_from_its_scope(client: FlaskClient) -> None:
    response = client.get("/account/notifications/push/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert b'addEventListener("push"' in response.data


def test_production_without_a_vapid_key_offers_no_browser_push(
    app: Flask, client: FlaskClient, db: Session, buyer, monkeypatch: pytest.MonkeyPatch
) -> None:  # noqa: ANN001
    monkeypatch.setitem(app.config, "APP_ENV", "production")
    monkeypatch.setitem(app.config, "VAPID_PRIVATE_KEY", "")
    page = client.get("/account/notifications/settings").get_data(as_text=True)
    assert "does not send push notifications" in page
    assert client.post(URL, json=push_subscription_json()).status_code == 404


# --- phone-app devices (FCM): a domain function until the app's API exists ------------------


def test_device_tokens_are_checked_limited_and_owned(db: Session, make_user) -> None:  # noqa: ANN001
    alice, bob = make_user(), make_user()
    db.flush()
    now = utcnow()
    for bad in (None, 12, "", "has space", "x" * 5000, "<script>"):
        with pytest.raises(push.PushError, match="FCM registration token"):
            push.register_device(db, alice.id, bad, label="App", limit=2, now=now)
    push.register_device(db, alice.id, "tok:1", label="App", limit=2, now=now)
    push.register_device(db, alice.id, "tok:2", label="App", limit=2, now=now)
    with pytest.raises(push.PushError, match="remove one first"):
        push.register_device(db, alice.id, "tok:3", label="App", limit=2, now=now)
    push.register_device(db, bob.id, "tok:2", label="App", limit=2, now=now)  # moves to bob
    with pytest.raises(NotFound):
        push.unregister_device(db, alice.id, "tok:2")
    push.unregister_device(db, bob.id, "tok:2")
    assert list(db.scalars(select(DeviceToken.token))) == ["tok:1"]
    assert push.reach(db, alice.id) == "app" and push.reach(db, bob.id) is None


def test_browser_labels() -> None:
    chrome_mac = (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/537.36 Chrome/131 Safari/537.36"
    )
    assert push.browser_label(chrome_mac) == "Chrome on macOS"
    assert push.browser_label(FIREFOX) == "Firefox on Android"
    assert push.browser_label("") == "A browser"
    assert Browser().subscription_json()["endpoint"].startswith("https://")
