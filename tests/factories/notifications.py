"""Reading the email notifications a test's actions queued, rendered as they would be sent."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.base import utcnow
from app.domain.notifications import messages
from app.domain.notifications.delivery import Skip
from app.domain.notifications.models import Channel, Notification


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
