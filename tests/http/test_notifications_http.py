"""The notifications pages, the bell, the live count, the settings and one-click unsubscribe."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.domain.notifications import preferences
from app.domain.notifications.messages import unsubscribe_headers
from app.domain.notifications.models import Channel, Notification, NotificationPreference
from app.domain.notifications.preferences import DIGESTS, REMINDERS
from tests.factories.notifications import shown_in_app
from tests.http.test_live import Stream
from tests.http.test_page_queries import counted_statements

HTMX = {"HX-Request": "true"}


def tell(db, user, kind="event_changed", n=1, **payload) -> int:  # noqa: ANN001
    return shown_in_app(db, user.id, kind, "http", n, **payload)


@pytest.fixture
def reader(db, client, make_user, login_as):  # noqa: ANN001, ANN201
    user = make_user()
    login_as(client, user)
    return user


def test_the_bell_shows_the_unread_count_on_every_page(client, db, reader) -> None:  # noqa: ANN001
    assert "Notifications (" not in client.get("/events").get_data(as_text=True)
    tell(db, reader, n=1)
    tell(db, reader, n=2)
    html = client.get("/events").get_data(as_text=True)
    assert 'aria-label="Notifications (2 unread)">' in html
    assert 'Notifications <span class="bell-count">(2)</span>' in html
    assert 'sse-connect="/account/notifications/stream"' in html


def test_the_bell_costs_no_query_of_its_own(app: Flask, client, db, reader) -> None:  # noqa: ANN001
    tell(db, reader)
    client.get("/account/bookings")  # the connection's first use is not what is counted
    with counted_statements(app) as statements:
        html = client.get("/account/notifications/settings").get_data(as_text=True)
    assert "Notifications (1 unread)" in html
    # The session's user comes with its bell; no other statement reads the notifications.
    assert "FROM notifications" in statements[0] and statements[0].startswith("SELECT users")
    assert not [s for s in statements[1:] if "notifications " in s or "notifications\n" in s]


def test_the_door_page_keeps_its_one_stream(client, db, make_event, make_staff, login_as) -> None:  # noqa: ANN001
    event = make_event()
    staff = make_staff(event)
    db.commit()
    login_as(client, staff)
    html = client.get(f"/checkin/{event.id}").get_data(as_text=True)
    assert 'id="bell"' in html and "/account/notifications/stream" not in html
    assert html.count("sse-connect=") == 1


def test_the_page_lists_marks_and_links(client, db, reader, make_event) -> None:  # noqa: ANN001
    event = make_event()
    db.commit()
    old = tell(db, reader, "event_changed", n=1, event_id=event.id)
    new = tell(db, reader, "event_cancelled", n=2, event_id=event.id)
    html = client.get("/account/notifications").get_data(as_text=True)
    assert html.index(f"notification-{new}") < html.index(f"notification-{old}")
    assert html.count('class="card notification unread"') == 2
    assert f"“{event.title}” has changed" in html

    answer = client.post(f"/account/notifications/{old}/read")
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/events/{event.id}"
    html = client.get("/account/notifications").get_data(as_text=True)
    assert html.count('class="card notification unread"') == 1
    assert "Notifications (1 unread)" in html

    stay = client.post(f"/account/notifications/{new}/read", data={"stay": "1", "page": "1"})
    assert stay.headers["Location"] == "/account/notifications?page=1"
    assert "bell-count" not in client.get("/account/notifications").get_data(as_text=True)


def test_htmx_gets_the_item_and_the_new_count(client, db, reader) -> None:  # noqa: ANN001
    first = tell(db, reader, n=1)
    tell(db, reader, n=2)
    answer = client.post(f"/account/notifications/{first}/read", headers=HTMX)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Vary" in answer.headers
    assert f'id="notification-{first}"' in html and "unread" not in html.split("bell")[0]
    assert 'hx-swap-oob="innerHTML"' in html and "(1)</span>" in html


def test_mark_all_read(client, db, reader) -> None:  # noqa: ANN001
    for n in range(3):
        tell(db, reader, n=n)
    answer = client.post("/account/notifications/read-all")
    assert answer.status_code == 303
    db.expire_all()
    assert db.scalar(select(func.count()).where(Notification.read_at.is_(None))) == 0


def test_another_users_notification_is_not_found_and_unchanged(
    client, db, reader, make_user
) -> None:  # noqa: ANN001
    other = make_user()
    theirs = tell(db, other)
    assert client.post(f"/account/notifications/{theirs}/read").status_code == 404
    assert client.post(f"/account/notifications/{theirs}/read", headers=HTMX).status_code == 404
    assert client.post("/account/notifications/read-all").status_code == 303
    db.expire_all()
    assert db.get(Notification, theirs).read_at is None
    assert "notification-" not in client.get("/account/notifications").get_data(as_text=True)


def test_a_notification_about_something_gone_leads_to_the_list(client, db, reader) -> None:  # noqa: ANN001
    gone = tell(db, reader, "booking_confirmed", booking_id=123456)
    assert "A booking is confirmed" in client.get("/account/notifications").get_data(as_text=True)
    answer = client.post(f"/account/notifications/{gone}/read")
    assert answer.headers["Location"] == "/account/notifications"


def test_pages(client, db, reader) -> None:  # noqa: ANN001
    from app.domain.notifications.in_app import PAGE_SIZE

    for n in range(PAGE_SIZE + 1):
        tell(db, reader, n=n)
    first = client.get("/account/notifications").get_data(as_text=True)
    assert 'rel="next"' in first and 'rel="prev"' not in first
    second = client.get("/account/notifications?page=2").get_data(as_text=True)
    assert second.count('class="card notification unread"') == 1 and 'rel="prev"' in second
    assert client.get("/account/notifications?page=99999999999").status_code == 200


def test_settings_save_the_whole_grid(client, db, reader) -> None:  # noqa: ANN001
    page = client.get("/account/notifications/settings").get_data(as_text=True)
    # Reminders on four channels, digests on three (no text message).
    assert page.count('type="checkbox"') == 7 and page.count("checked") == 7
    assert 'name="digests__sms"' not in page
    ticked = {"reminders__sms": "y", "digests__email": "y"}
    assert client.post("/account/notifications/settings", data=ticked).status_code == 303
    assert preferences.wants(db, reader.id, REMINDERS, Channel.SMS)
    assert not preferences.wants(db, reader.id, REMINDERS, Channel.EMAIL)
    assert preferences.wants(db, reader.id, DIGESTS, Channel.EMAIL)
    assert not preferences.wants(db, reader.id, DIGESTS, Channel.IN_APP)
    page = client.get("/account/notifications/settings").get_data(as_text=True)
    assert page.count("checked") == 2


def test_settings_need_the_csrf_token(csrf_app: Flask, db, make_user, login_as) -> None:  # noqa: ANN001
    client = csrf_app.test_client()
    user = make_user()
    login_as(client, user)
    assert client.post("/account/notifications/settings", data={}).status_code == 400
    assert db.scalar(select(func.count()).select_from(NotificationPreference)) == 0


# --- unsubscribe --------------------------------------------------------------------------


def test_unsubscribe_without_a_session(app: Flask, db, make_user) -> None:  # noqa: ANN001
    user = make_user()
    db.commit()
    link = unsubscribe_headers(app.config, user.id, REMINDERS, Channel.EMAIL)["List-Unsubscribe"]
    path = urlsplit(link.strip("<>")).path
    client = app.test_client()
    page = client.get(path)
    assert page.status_code == 200 and "Stop getting <strong>event reminders</strong>" in page.text
    assert preferences.wants(db, user.id, REMINDERS, Channel.EMAIL)  # a GET changes nothing
    done = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "no longer get" in done.text
    db.expire_all()
    assert not preferences.wants(db, user.id, REMINDERS, Channel.EMAIL)
    assert preferences.wants(db, user.id, DIGESTS, Channel.EMAIL)
    again = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert again.status_code == 200
    assert db.scalar(select(func.count()).select_from(NotificationPreference)) == 1


def test_one_click_needs_no_csrf_token_nor_cookie(csrf_app: Flask, db, make_user) -> None:  # noqa: ANN001
    user = make_user()
    db.commit()
    headers = unsubscribe_headers(csrf_app.config, user.id, DIGESTS, Channel.EMAIL)
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = headers["List-Unsubscribe"]
    assert url.startswith("<http") and url.endswith(">") and "/unsubscribe/" in url
    path = urlsplit(url[1:-1]).path
    answer = csrf_app.test_client().post(
        path,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert answer.status_code == 200
    db.expire_all()
    assert not preferences.wants(db, user.id, DIGESTS, Channel.EMAIL)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_tampered_link_is_refused_and_changes_nothing(
    csrf_app: Flask, db, make_user, method: str
) -> None:  # noqa: ANN001
    user = make_user()
    db.commit()
    token = preferences.unsubscribe_token("another-secret", user.id, REMINDERS, Channel.EMAIL)
    client = csrf_app.test_client()
    for bad in (token, "garbage", token[:-3] + "abc"):
        answer = client.open(f"/unsubscribe/{bad}", method=method)
        assert answer.status_code == 400, bad
        assert "not valid" in answer.text
    assert db.scalar(select(func.count()).select_from(NotificationPreference)) == 0


# --- the live count -------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def _quick_streams(csrf_app: Flask) -> Iterator[None]:
    csrf_app.config["SSE_KEEPALIVE_SECONDS"] = 1  # closed test streams are noticed quickly
    yield


def test_the_stream_sends_the_new_count_after_the_commit(
    live_server, csrf_app: Flask, db, make_user, login_as
) -> None:  # noqa: ANN001
    user = make_user()
    browser = csrf_app.test_client()
    login_as(browser, user)
    cookie = browser.get_cookie("session")
    assert cookie is not None
    stream = Stream(
        live_server.url, "/account/notifications/stream", {"Cookie": f"session={cookie.value}"}
    )
    try:
        assert stream.response.status == 200
        first = stream.next_event()
        assert first["event"] == "unread" and "bell-count" not in first["data"]
        tell(db, user, n=7)
        event = stream.next_event_with("bell-count")
        assert "(1 unread)" in event["data"]
    finally:
        stream.close()


def test_the_stream_needs_a_session(client) -> None:  # noqa: ANN001
    answer = client.get("/account/notifications/stream")
    assert answer.status_code in (302, 303) and "/login" in answer.headers["Location"]
