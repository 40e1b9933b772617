"""Enqueue a notification in the caller's transaction (see `models` for the guarantees)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.notifications.models import Channel, Notification, NotificationStatus
from app.domain.notifications.preferences import topic_of, wants

# The live channel of in-app notifications: its payload is the user's id (app/live.py).
CHANNEL = "notifications"


def notification_key(kind: str, channel: Channel, *parts: object) -> str:
    """The idempotency key of one message: what it is about, its kind and its channel."""
    return ":".join([*(str(part) for part in parts), kind, channel.value])


def notify(
    session: Session,
    *,
    key: str,
    kind: str,
    channel: Channel,
    now: datetime,
    due_at: datetime | None = None,
    user_id: int | None = None,
    recipient: str | None = None,
    payload: dict[str, Any] | None = None,
) -> bool:
    """Queue the message, to go at `due_at` (at once by default), unless one with `key` exists
    already; True when this call added it.

    An optional message (a reminder, a digest) its user turned off on `channel` is written
    skipped (its key taken, nothing sent); transactional ones always go. An in-app copy is
    always written pending, nothing read: the worker shows it when it is due and passes it on
    to the kind's other channels (fan_out.py), so a rush's transaction only inserts."""
    row = _row(session, key, kind, channel, now, due_at, user_id, recipient, payload or {})
    return key in _insert(session, [row])


def notify_user(
    session: Session,
    *,
    kind: str,
    about: tuple[object, ...],
    user_id: int,
    email: str | None,
    now: datetime,
    payload: dict[str, Any],
    due_at: datetime | None = None,
) -> bool:
    """Queue a message to a user, once per `about` (for example ("booking", 42)): a mail to
    `email` and the in-app copy, which the worker shows and passes on to the kind's other
    channels (SMS, push) for users who can get them; one statement, as a rush's transaction
    may call this. True when the mail was added."""
    mail_key = notification_key(kind, Channel.EMAIL, *about)
    rows = [
        _row(session, notification_key(kind, Channel.IN_APP, *about), kind, Channel.IN_APP,
             now, due_at, user_id, None, payload)
    ]  # fmt: skip
    if email is not None:
        rows.append(
            _row(session, mail_key, kind, Channel.EMAIL, now, due_at, user_id, email, payload)
        )
    return mail_key in _insert(session, rows)


def _row(
    session: Session,
    key: str,
    kind: str,
    channel: Channel,
    now: datetime,
    due_at: datetime | None,
    user_id: int | None,
    recipient: str | None,
    payload: dict[str, Any],
) -> dict[str, Any]:
    in_app = channel is Channel.IN_APP
    if in_app and user_id is None:
        raise ValueError("an in-app notification needs a user")
    row: dict[str, Any] = {
        "key": key,
        "kind": kind,
        "channel": channel,
        "user_id": user_id,
        "recipient": recipient,
        "payload": payload,
        "due_at": due_at or now,
        "created_at": now,
        "status": NotificationStatus.PENDING,
        "last_error": None,
    }
    topic = topic_of(kind)
    if (
        not in_app
        and topic is not None
        and user_id is not None
        and not wants(session, user_id, topic, channel)
    ):
        row.update(status=NotificationStatus.SKIPPED, last_error=f"{topic} turned off")
    return row


def _insert(session: Session, rows: list[dict[str, Any]]) -> set[str]:
    """Insert the rows whose key is free; the keys added."""
    added = session.scalars(
        insert(Notification)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(Notification.key)
    )
    return set(added)


def email_user(
    session: Session,
    *,
    kind: str,
    about: tuple[object, ...],
    user: User | None,
    now: datetime,
    payload: dict[str, Any],
) -> bool:
    """Queue a transactional message (these always go by email) to the user, once per
    `about`; nothing for a deleted or missing account."""
    if user is None or user.deleted_at is not None:
        return False
    return notify_user(
        session, kind=kind, about=about, user_id=user.id, email=user.email, now=now, payload=payload
    )


def booking_confirmed(
    session: Session, *, booking_id: int, user: User | None, now: datetime
) -> None:
    """The confirmation with the tickets attached: from every path that confirms a booking
    (a free claim, a payment), once per booking."""
    email_user(
        session,
        kind="booking_confirmed",
        about=("booking", booking_id),
        user=user,
        now=now,
        payload={"booking_id": booking_id},
    )
