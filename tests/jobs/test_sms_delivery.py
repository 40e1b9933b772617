"""Text messages through the worker, with Twilio's SDK talking to a local stand-in of its API:
a message passed on from its in-app copy to a verified number, a number Twilio refuses
(marked failing, shown on its owner's profile), a Twilio that fails for a while (retried),
and the verification codes that go through the outbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.accounts import phone
from app.domain.accounts.models import User
from app.domain.notifications.delivery import is_failing
from app.domain.notifications.models import Channel, Notification, NotificationStatus
from app.domain.notifications.preferences import REMINDERS, save_choices
from app.domain.notifications.queue import notification_key, notify
from app.domain.notifications.sms import MAX_TEXT, clip
from app.domain.outbox import OutboxMessage
from jobs.notifications import deliver_due
from jobs.relay import deliver_pending
from tests.integrations.fake_api import FakeAPI, serve
from tests.integrations.test_sms_backends import MESSAGES, accepted, refused, twilio_config

SECRET = "test-secret"
MOBILE = "+33612345678"


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    yield from serve()


def _config(app: Flask, api: FakeAPI) -> dict[str, Any]:
    return {**app.config, **twilio_config(api.base_url)}


def _verified(db: Session, user: User, number: str, now: datetime) -> None:
    phone.set_number(db, user, number, now=now)
    code = phone.issue_code(db, user, secret_key=SECRET, site_name="E", now=now).code
    phone.verify(db, user, code, secret_key=SECRET, now=now)


def _cancelled(db: Session, make_event, user: User, now: datetime) -> None:  # noqa: ANN001
    """The in-app copy of an "event cancelled" message to `user` (a kind that goes by SMS)."""
    event = make_event(title="Jazz night")
    notify(
        db,
        key=notification_key("event_cancelled", Channel.IN_APP, "event", event.id, user.id),
        kind="event_cancelled",
        channel=Channel.IN_APP,
        now=now,
        user_id=user.id,
        payload={"event_id": event.id, "user_id": user.id, "refunded": True},
    )
    db.commit()


def _sms_rows(db: Session) -> list[Notification]:
    db.expire_all()
    return list(
        db.scalars(
            select(Notification)
            .where(Notification.channel == Channel.SMS)
            .order_by(Notification.id)
        )
    )


def test_a_message_goes_by_sms_to_a_verified_number_only(
    app: Flask, db: Session, api: FakeAPI, make_user, make_event, now: datetime
) -> None:  # noqa: ANN001
    api.route("POST", MESSAGES, accepted())
    reached, unverified, without = make_user(), make_user(), make_user()
    _verified(db, reached, MOBILE, now)
    phone.set_number(db, unverified, "+4915112345678", now=now)
    for user in (reached, unverified, without):
        _cancelled(db, make_event, user, now)
    deliver_due(app.extensions["db"].session, _config(app, api), now=now)
    [row] = _sms_rows(db)
    assert (row.user_id, row.recipient, row.status) == (reached.id, MOBILE, NotificationStatus.SENT)
    [request] = api.sent("POST", MESSAGES)
    sent = request.form()
    assert sent["To"] == MOBILE and sent["From"] == twilio_config("")["TWILIO_FROM"]
    assert "Jazz night" in sent["Body"] and "cancelled" in sent["Body"]
    assert len(sent["Body"]) <= MAX_TEXT


def test_a_refused_number_is_marked_failing_and_shown_to_its_owner(
    app: Flask, db: Session, api: FakeAPI, make_user, make_event, login_as, now: datetime
) -> None:  # noqa: ANN001
    api.route("POST", MESSAGES, refused(400, 21211, f"The 'To' number {MOBILE} is not valid."))
    user = make_user()
    _verified(db, user, MOBILE, now)
    _cancelled(db, make_event, user, now)
    deliver_due(app.extensions["db"].session, _config(app, api), now=now)
    [row] = _sms_rows(db)
    assert row.status == NotificationStatus.FAILED and "21211" in (row.last_error or "")
    assert is_failing(db, Channel.SMS, MOBILE)
    client = app.test_client()
    login_as(client, user)
    html = client.get("/account/profile").get_data(as_text=True)
    assert "Our text messages to +33 6 12 34 56 78 are refused" in html and "21211" in html
    assert "are refused" in client.get("/account/phone").get_data(as_text=True)
    # The next message to that number is not tried.
    _cancelled(db, make_event, user, now)
    deliver_due(app.extensions["db"].session, _config(app, api), now=now)
    assert [r.status for r in _sms_rows(db)] == [
        NotificationStatus.FAILED,
        NotificationStatus.SKIPPED,
    ]
    assert len(api.sent("POST", MESSAGES)) == 1


def test_a_failing_twilio_is_retried_later(
    app: Flask, db: Session, api: FakeAPI, make_user, make_event, now: datetime
) -> None:  # noqa: ANN001
    api.route("POST", MESSAGES, refused(500, 20500, "Internal Server Error"))
    user = make_user()
    _verified(db, user, MOBILE, now)
    _cancelled(db, make_event, user, now)
    sessions = app.extensions["db"].session
    deliver_due(sessions, _config(app, api), now=now)
    [row] = _sms_rows(db)
    assert row.status == NotificationStatus.PENDING and row.due_at > now
    assert "HTTP 500" in (row.last_error or "") and not is_failing(db, Channel.SMS, MOBILE)
    api.route("POST", MESSAGES, accepted())
    deliver_due(sessions, _config(app, api), now=row.due_at + timedelta(seconds=1))
    [row] = _sms_rows(db)
    assert row.status == NotificationStatus.SENT and row.attempts == 2
    assert len(api.sent("POST", MESSAGES)) == 2


def test_a_number_changed_since_the_message_was_queued_is_skipped(
    app: Flask, db: Session, api: FakeAPI, make_user, make_event, now: datetime
) -> None:  # noqa: ANN001
    api.route("POST", MESSAGES, accepted())
    user = make_user()
    _verified(db, user, MOBILE, now)
    event = make_event()
    notify(
        db,
        key=notification_key("event_cancelled", Channel.SMS, "event", event.id, user.id),
        kind="event_cancelled",
        channel=Channel.SMS,
        now=now,
        user_id=user.id,
        recipient=MOBILE,
        payload={"event_id": event.id, "user_id": user.id},
    )
    phone.set_number(db, user, "+4915112345678", now=now)
    db.commit()
    deliver_due(app.extensions["db"].session, _config(app, api), now=now)
    [row] = _sms_rows(db)
    assert row.status == NotificationStatus.SKIPPED and api.sent("POST", MESSAGES) == []


def _codes(db: Session) -> list[OutboxMessage]:
    db.expire_all()
    return list(db.scalars(select(OutboxMessage).where(OutboxMessage.topic == phone.SMS_TOPIC)))


def test_verification_codes_go_through_the_outbox(
    app: Flask, db: Session, api: FakeAPI, make_user, now: datetime
) -> None:  # noqa: ANN001
    api.route("POST", MESSAGES, refused(503, 20503, "Service Unavailable"))
    user = make_user()
    phone.set_number(db, user, MOBILE, now=now)
    code = phone.issue_code(db, user, secret_key=SECRET, site_name="Eventhall", now=now).code
    db.commit()
    config = _config(app, api)
    assert deliver_pending(db, config) == 0  # 503: kept for a retry
    db.commit()
    [message] = _codes(db)
    assert message.processed_at is None and "503" in (message.last_error or "")
    api.route("POST", MESSAGES, accepted())
    assert deliver_pending(db, config, now=message.available_at) == 1
    db.commit()
    bodies = [r.form()["Body"] for r in api.sent("POST", MESSAGES)]
    assert len(bodies) == 2 and code in bodies[-1] and bodies[-1].startswith("Eventhall:")


def test_a_code_to_a_refused_number_marks_it_failing_and_is_not_retried(
    app: Flask, db: Session, api: FakeAPI, make_user, now: datetime
) -> None:  # noqa: ANN001
    api.route("POST", MESSAGES, refused(400, 21614, "not a mobile number"))
    user = make_user()
    phone.set_number(db, user, MOBILE, now=now)
    phone.issue_code(db, user, secret_key=SECRET, site_name="E", now=now)
    db.commit()
    assert deliver_pending(db, _config(app, api)) == 1
    db.commit()
    assert is_failing(db, Channel.SMS, MOBILE)
    assert _codes(db)[0].processed_at is not None


def test_a_code_past_its_expiry_is_not_sent(
    app: Flask, db: Session, api: FakeAPI, make_user, now: datetime
) -> None:  # noqa: ANN001
    api.route("POST", MESSAGES, accepted())
    user = make_user()
    phone.set_number(db, user, MOBILE, now=now - phone.CODE_TTL - timedelta(minutes=1))
    phone.issue_code(
        db, user, secret_key=SECRET, site_name="E", now=now - phone.CODE_TTL - timedelta(minutes=1)
    )
    db.commit()
    assert deliver_pending(db, _config(app, api)) == 1
    assert api.sent("POST", MESSAGES) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("short", "short"),
        ("word " * 100, ("word " * 63).rstrip() + "..."),
    ],
)
def test_long_texts_are_cut_at_a_word(text: str, expected: str) -> None:
    assert clip(text.strip()) == expected and len(clip(text.strip())) <= MAX_TEXT


def test_a_trailing_link_survives_the_cut() -> None:
    link = "https://eventhall.example/account/bookings/B7K2QX/tickets"
    clipped = clip("word " * 100 + link)
    assert clipped.endswith("... " + link) and len(clipped) <= MAX_TEXT


@pytest.mark.parametrize("wanted", [True, False])
def test_reminders_by_sms_follow_the_users_choice(
    app: Flask,
    db: Session,
    api: FakeAPI,
    make_user,
    make_seated_booking,
    now: datetime,
    wanted: bool,
) -> None:  # noqa: ANN001
    api.route("POST", MESSAGES, accepted())
    user = make_user()
    _verified(db, user, MOBILE, now)
    booking = make_seated_booking(buyer=user, quantity=1, title="Harbour Lights")
    save_choices(db, user.id, {(REMINDERS, Channel.SMS): wanted}, now=now)
    notify(
        db,
        key=notification_key("reminder_1h", Channel.IN_APP, "booking", booking.id),
        kind="reminder_1h",
        channel=Channel.IN_APP,
        now=now,
        user_id=user.id,
        payload={"booking_id": booking.id},
    )
    db.commit()
    deliver_due(app.extensions["db"].session, _config(app, api), now=now)
    [row] = _sms_rows(db)
    if wanted:
        assert row.status == NotificationStatus.SENT
        [request] = api.sent("POST", MESSAGES)
        assert "Harbour Lights starts in an hour" in request.form()["Body"]
    else:
        assert row.status == NotificationStatus.SKIPPED and api.sent("POST", MESSAGES) == []
