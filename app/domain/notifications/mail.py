"""Queue an email in the caller's transaction; the worker delivers it after the commit."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.domain.outbox import OutboxMessage, enqueue

EMAIL_TOPIC = "email"


def queue_email(
    session: Session, *, to: str, subject: str, text: str, html: str | None = None
) -> OutboxMessage:
    """The message is sent if and only if the caller's transaction commits."""
    return enqueue(session, EMAIL_TOPIC, {"to": to, "subject": subject, "text": text, "html": html})
