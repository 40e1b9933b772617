"""Preferences for optional messages, and one-click unsubscribe tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.domain.accounts.errors import InvalidToken
from app.domain.notifications import preferences
from app.domain.notifications.models import Channel, NotificationPreference
from app.domain.notifications.preferences import DIGESTS, REMINDERS

SECRET = "test-secret"


def test_everything_is_on_until_turned_off(db, now, make_user):
    user = make_user()
    assert preferences.wants(db, user.id, REMINDERS, Channel.EMAIL)
    assert all(preferences.choices(db, user.id).values())
    preferences.save_choices(db, user.id, {(REMINDERS, Channel.EMAIL): False}, now=now)
    assert not preferences.wants(db, user.id, REMINDERS, Channel.EMAIL)
    assert preferences.wants(db, user.id, REMINDERS, Channel.SMS)
    assert preferences.wants(db, user.id, DIGESTS, Channel.EMAIL)
    assert not preferences.wants_kind(db, user.id, "reminder_24h", Channel.EMAIL)
    preferences.save_choices(db, user.id, {(REMINDERS, Channel.EMAIL): True}, now=now)
    assert preferences.wants(db, user.id, REMINDERS, Channel.EMAIL)


def test_transactional_messages_ignore_preferences(db, now, make_user):
    user = make_user()
    everything_off = {(t, c): False for t in preferences.TOPICS for c in preferences.CHANNELS}
    preferences.save_choices(db, user.id, everything_off, now=now)
    for kind in ("booking_confirmed", "payment_failed", "refund_issued", "booking_cancelled"):
        assert preferences.topic_of(kind) is None
        assert preferences.wants_kind(db, user.id, kind, Channel.EMAIL)
    assert not preferences.wants_kind(db, user.id, "sales_digest", Channel.EMAIL)
    with pytest.raises(ValueError):
        preferences.wants(db, user.id, "transactional", Channel.EMAIL)
    with pytest.raises(ValueError):
        preferences.unsubscribe_token(SECRET, user.id, "security", Channel.EMAIL)


def test_a_grid_is_saved_whole_and_only_known_cells(db, now, make_user):
    user = make_user()
    preferences.save_choices(
        db,
        user.id,
        {(REMINDERS, Channel.PUSH): False, ("security", Channel.EMAIL): False},
        now=now,
    )
    rows = db.execute(select(NotificationPreference.topic, NotificationPreference.channel)).all()
    assert rows == [(REMINDERS, Channel.PUSH)]


def test_unsubscribe_turns_one_topic_off_and_again_changes_nothing(db, now, make_user):
    user = make_user()
    token = preferences.unsubscribe_token(SECRET, user.id, DIGESTS, Channel.EMAIL)
    stop = preferences.unsubscribe(db, SECRET, token, now=now)
    assert stop == preferences.Unsubscription(user.id, DIGESTS, Channel.EMAIL)
    assert not preferences.wants(db, user.id, DIGESTS, Channel.EMAIL)
    assert preferences.wants(db, user.id, REMINDERS, Channel.EMAIL)
    first = db.scalar(select(NotificationPreference))
    stamped = first.updated_at
    preferences.unsubscribe(db, SECRET, token, now=now + timedelta(days=1))
    db.expire_all()
    assert db.scalar(select(NotificationPreference.updated_at)) == stamped
    assert db.scalar(select(func.count()).select_from(NotificationPreference)) == 1


def test_tampered_or_foreign_tokens_are_refused(db, now, make_user):
    user = make_user()
    token = preferences.unsubscribe_token(SECRET, user.id, REMINDERS, Channel.EMAIL)
    other = preferences.unsubscribe_token("another-secret", user.id, REMINDERS, Channel.EMAIL)
    body, signature = token.rsplit(".", 1)
    forged = [
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        other,
        body + "." + signature[::-1],
        "not-a-token",
        "",
    ]
    for bad in forged:
        with pytest.raises(InvalidToken):
            preferences.unsubscribe(db, SECRET, bad, now=now)
    assert db.scalar(select(func.count()).select_from(NotificationPreference)) == 0


def test_a_token_of_a_deleted_user_is_refused(db, now, make_user):
    user = make_user()
    token = preferences.unsubscribe_token(SECRET, user.id, REMINDERS, Channel.EMAIL)
    user.deleted_at = now
    db.flush()
    with pytest.raises(InvalidToken):
        preferences.read_unsubscribe_token(db, SECRET, token)


def test_the_token_has_its_own_salt(db, make_user):
    from itsdangerous import URLSafeSerializer

    user = make_user()
    unsalted = URLSafeSerializer(SECRET).dumps([user.id, REMINDERS, "email"])
    with pytest.raises(InvalidToken):
        preferences.read_unsubscribe_token(db, SECRET, unsalted)


def test_a_message_turned_off_is_skipped_and_shown_nowhere(app, db, now, make_user):
    from app.domain.notifications import in_app
    from app.domain.notifications.models import Notification, NotificationStatus
    from app.domain.notifications.queue import notification_key, notify

    user = make_user()
    preferences.save_choices(
        db, user.id, {(REMINDERS, Channel.IN_APP): False, (REMINDERS, Channel.EMAIL): False},
        now=now,
    )  # fmt: skip

    def send(kind: str, channel: Channel) -> Notification:
        key = notification_key(kind, channel, "booking", 7)
        assert notify(db, key=key, kind=kind, channel=channel, now=now, user_id=user.id)
        return db.scalar(select(Notification).where(Notification.key == key))

    from jobs.notifications import deliver_due

    # An in-app copy is always written: the worker passes it on to the other channels first.
    reminder = send("reminder_24h", Channel.IN_APP)
    assert reminder.status == NotificationStatus.PENDING
    assert send("reminder_1h", Channel.EMAIL).status == NotificationStatus.SKIPPED
    assert send("reminder_1h", Channel.SMS).status == NotificationStatus.PENDING  # still on
    assert send("booking_confirmed", Channel.EMAIL).status == NotificationStatus.PENDING
    cancelled = send("booking_cancelled", Channel.IN_APP)
    db.query(Notification).filter(Notification.channel != Channel.IN_APP).delete()
    db.commit()
    assert deliver_due(app.extensions["db"].session, app.config, now=now) == 2
    db.refresh(reminder)
    db.refresh(cancelled)
    assert (reminder.status, cancelled.status) == (
        NotificationStatus.SKIPPED,
        NotificationStatus.SENT,
    )
    assert [i.kind for i in in_app.list_page(db, user.id).items] == ["booking_cancelled"]
    assert in_app.unread_count(db, user.id) == 1


def test_the_grid_offers_each_topic_on_its_channels_only(db, now, make_user):
    user = make_user()
    grid = preferences.choices(db, user.id)
    assert (REMINDERS, Channel.SMS) in grid
    assert (DIGESTS, Channel.SMS) not in grid  # no digest goes by text message
    assert {(DIGESTS, c) for c in (Channel.EMAIL, Channel.PUSH, Channel.IN_APP)} <= set(grid)
    preferences.save_choices(db, user.id, {(DIGESTS, Channel.SMS): False}, now=now)
    assert db.scalar(select(func.count()).select_from(NotificationPreference)) == 0
