"""A message to a user is a mail and an in-app copy; the worker shows the copy and passes the
message on to the kind's other channels, once, for users it can reach there."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from app.domain.notifications import fan_out, preferences
from app.domain.notifications.models import Channel, Notification, NotificationStatus
from app.domain.notifications.queue import notify_user
from jobs.notifications import deliver_due

NUMBER = "+33612345678"


@pytest.fixture
def reach_by_sms(monkeypatch):  # noqa: ANN001, ANN201
    """Users in `reachable` have a number (as a verified phone would give them)."""
    reachable: set[int] = set()
    monkeypatch.setitem(
        fan_out.REACH,
        Channel.SMS,
        lambda session, user_id: NUMBER if user_id in reachable else None,
    )
    return reachable


def _rows(db) -> dict[Channel, Notification]:  # noqa: ANN001
    db.expire_all()
    return {row.channel: row for row in db.scalars(select(Notification))}


def _queue(db, user, kind: str, now) -> None:  # noqa: ANN001
    notify_user(db, kind=kind, about=("event", 5, "user", user.id), user_id=user.id,
                email=user.email, now=now, payload={"event_id": 5})  # fmt: skip
    db.commit()


def _work(app: Flask, now) -> int:  # noqa: ANN001
    """Show the due in-app copies (and nothing else: the mail is not these tests' concern)."""
    handled = 0
    for _ in range(3):  # the copy, then what it passed on
        with app.extensions["db"].session() as session:
            session.query(Notification).filter(
                Notification.channel.in_([Channel.EMAIL, Channel.SMS])
            ).update({"status": NotificationStatus.SKIPPED}, synchronize_session=False)
            session.commit()
        handled += deliver_due(app.extensions["db"].session, app.config, now=now)
    return handled


def test_the_cause_writes_a_mail_and_a_copy_and_reads_nothing(db, now, make_user) -> None:  # noqa: ANN001
    user = make_user()
    _queue(db, user, "event_cancelled", now)
    rows = _rows(db)
    assert set(rows) == {Channel.EMAIL, Channel.IN_APP}
    assert rows[Channel.IN_APP].key == f"event:5:user:{user.id}:event_cancelled:in_app"
    assert rows[Channel.IN_APP].status == NotificationStatus.PENDING


def test_the_copy_passes_the_message_on_to_a_reachable_user_once(
    app: Flask, db, now, make_user, reach_by_sms
) -> None:  # noqa: ANN001
    user, unreachable = make_user(), make_user()
    reach_by_sms.add(user.id)
    _queue(db, user, "event_cancelled", now)
    _queue(db, unreachable, "event_cancelled", now)
    _work(app, now)
    sms = db.scalars(select(Notification).where(Notification.channel == Channel.SMS)).all()
    assert [(row.user_id, row.recipient, row.key) for row in sms] == [
        (user.id, NUMBER, f"event:5:user:{user.id}:event_cancelled:sms")
    ]
    assert sms[0].payload == {"event_id": 5}
    # The copy taken again (a retry, a second worker) adds nothing.
    copy = _rows(db)[Channel.IN_APP]
    with app.extensions["db"].session() as session:
        assert fan_out.pass_on(session, session.get(Notification, copy.id), now) == 0


def test_a_kind_that_does_not_go_by_sms_is_not_passed_on(
    app: Flask, db, now, make_user, reach_by_sms
) -> None:  # noqa: ANN001
    user = make_user()
    reach_by_sms.add(user.id)
    _queue(db, user, "refund_issued", now)
    _work(app, now)
    assert Channel.SMS not in _rows(db)


def test_turned_off_in_app_the_copy_is_hidden_but_still_passed_on(
    app: Flask, db, now, make_user, reach_by_sms
) -> None:  # noqa: ANN001
    user = make_user()
    reach_by_sms.add(user.id)
    preferences.save_choices(db, user.id, {(preferences.REMINDERS, Channel.IN_APP): False}, now=now)
    _queue(db, user, "reminder_1h", now)
    _work(app, now)
    rows = _rows(db)
    assert rows[Channel.IN_APP].status == NotificationStatus.SKIPPED
    assert rows[Channel.SMS].recipient == NUMBER


def test_every_kind_passed_on_has_words_in_app() -> None:
    from app.domain.notifications import in_app

    assert set(fan_out.OTHER_CHANNELS) <= set(in_app.CATALOGUE)
