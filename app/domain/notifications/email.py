"""The email channel's sender: render the kind's templates and hand them to the mail backend."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.domain.notifications import messages
from app.domain.notifications.delivery import (
    PermanentFailure,
    RenderFailure,
    Sender,
    Skip,
    TemporaryFailure,
    is_failing,
    message_id,
    register_sender,
)
from app.domain.notifications.models import Channel, Notification
from app.integrations import mail


@dataclass(frozen=True)
class Prepared:
    to: str
    message_id: str
    mail: messages.Rendered


def prepare_email(
    session: Session, config: Mapping[str, Any], notification: Notification, now: datetime
) -> Prepared:
    if not notification.recipient:
        raise RenderFailure("the notification has no address")
    if is_failing(session, Channel.EMAIL, notification.recipient):
        raise Skip("the address was refused earlier")
    rendered = messages.mail_of(session, notification, config, now)
    return Prepared(notification.recipient, message_id(notification.key, config), rendered)


def transmit_email(config: Mapping[str, Any], prepared: Prepared) -> None:
    try:
        mail.deliver(
            config,
            to=prepared.to,
            subject=prepared.mail.subject,
            text=prepared.mail.text,
            html=prepared.mail.html,
            attachments=prepared.mail.attachments,
            message_id=prepared.message_id,
            headers=prepared.mail.headers,
        )
    except mail.MailError as exc:
        raise (PermanentFailure if exc.permanent else TemporaryFailure)(str(exc)) from exc


register_sender(Channel.EMAIL, Sender(prepare_email, transmit_email))
