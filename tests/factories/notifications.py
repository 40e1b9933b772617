"""Reading the email notifications a test's actions queued, rendered as they would be sent, and
in-app notifications shown as the worker shows them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.base import utcnow
from app.domain.notifications import messages
from app.domain.notifications.delivery import Claim, Skip, record_sent
from app.domain.notifications.models import Channel, Notification
from app.domain.notifications.queue import notification_key, notify


def shown_in_app(db: Session, user_id: int, kind: str, *about: object, **payload: object) -> int:
    """Queue an in-app notification and show it as the worker does (its NOTIFY included), then
    commit; its id. For pages' tests: the worker's own path is tested in tests/jobs."""
    key = notification_key(kind, Channel.IN_APP, *about)
    now = utcnow()
    notify(db, key=key, kind=kind, channel=Channel.IN_APP, now=now, user_id=user_id,
           payload=dict(payload))  # fmt: skip
    notification_id = db.scalar(select(Notification.id).where(Notification.key == key))
    assert notification_id is not None
    assert record_sent(db, Claim(notification_id, attempt=0), now=now)
    db.commit()
    return notification_id


@pytest.fixture
def notification_mail(db: Session, app: Flask) -> Callable[..., list[dict]]:
    """`notification_mail(to=None, kind=None)`: the queued email notifications (committed or in
    `db`), oldest first, each rendered now without its attachments, as a dict of to, subject,
    text, html, kind and key; those the worker would skip are left out."""

    def read(to: str | None = None, kind: str | None = None) -> list[dict]:
        rows = db.scalars(
            select(Notification)
            .where(Notification.channel == Channel.EMAIL)
            .order_by(Notification.id)
        ).all()
        found = []
        for row in rows:
            if (to and (row.recipient or "").lower() != to.lower()) or (kind and row.kind != kind):
                continue
            try:
                mail = messages.build(db, row.kind, app.config, row.payload, utcnow(), attach=False)
            except Skip:
                continue
            found.append(
                {
                    "to": row.recipient,
                    "subject": mail.subject,
                    "text": mail.text,
                    "html": mail.html,
                    "kind": row.kind,
                    "key": row.key,
                }
            )
        return found

    return read
