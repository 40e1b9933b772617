"""The SMS channel: a kind's short text to the user's verified number, through the SMS backend.

The fan-out (fan_out.py) queues a kind's SMS copy for a user whose number is verified
(`reach`, the number at that moment: the row's recipient). When it is sent the number must
still be the user's verified one and not marked failing, or the message is skipped. A number
Twilio refuses for good (invalid, unsubscribed, not a mobile) is marked failing by
`record_failure`, and its owner sees why on their profile.

Verification codes do not pass here: like account mail they go through the outbox
(`send_code`, the handler of `phone.SMS_TOPIC`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.domain.accounts import phone
from app.domain.base import utcnow
from app.domain.notifications import messages
from app.domain.notifications.delivery import (
    PermanentFailure,
    RenderFailure,
    Sender,
    Skip,
    TemporaryFailure,
    is_failing,
    mark_failing,
    register_sender,
)
from app.domain.notifications.fan_out import register_reach
from app.domain.notifications.models import Channel, Notification
from app.integrations import sms

# Two segments of plain text; longer texts are cut (the link stays whole when it ends them).
MAX_TEXT = 320
# Not "…": one character outside the GSM alphabet makes the whole text UCS-2, 70 to a segment.
ELLIPSIS = "..."


@dataclass(frozen=True)
class Prepared:
    to: str
    text: str


def clip(text: str, limit: int = MAX_TEXT) -> str:
    """`text` cut to `limit` characters at a word, with an ellipsis; a trailing link is kept."""
    if len(text) <= limit:
        return text
    head, _, last = text.rpartition(" ")
    if last.startswith(("http://", "https://")) and len(last) < limit // 2:
        return f"{clip(head, limit - len(last) - 1)} {last}"
    room = limit - len(ELLIPSIS)
    cut = text[:room].rsplit(" ", 1)[0] if " " in text[:room] else text[:room]
    return cut.rstrip(" ,;:.") + ELLIPSIS


def prepare_sms(
    session: Session, config: Mapping[str, Any], notification: Notification, now: datetime
) -> Prepared:
    to = notification.recipient
    if not to:
        raise RenderFailure("the notification has no number")
    if is_failing(session, Channel.SMS, to):
        raise Skip("the number was refused earlier")
    if (
        notification.user_id is not None
        and phone.verified_number(session, notification.user_id) != to
    ):
        raise Skip("the number is no longer the user's verified one")
    short = messages.short_of(session, notification, config, now)
    return Prepared(to, clip(short.text))


def transmit_sms(config: Mapping[str, Any], prepared: Prepared) -> None:
    try:
        sms.deliver(config, to=prepared.to, text=prepared.text)
    except sms.SmsError as exc:
        raise (PermanentFailure if exc.permanent else TemporaryFailure)(str(exc)) from exc


def send_code(session: Session, config: Mapping[str, Any], payload: Mapping[str, Any]) -> None:
    """Text a verification code (the outbox's handler). A number refused for good is marked
    failing, and the message is done: retrying cannot help. A code past its expiry is dropped."""
    now = utcnow()
    if datetime.fromisoformat(payload["expires_at"]) <= now:
        return
    try:
        sms.deliver(config, to=payload["to"], text=payload["text"])
    except sms.SmsError as exc:
        if not exc.permanent:
            raise
        mark_failing(
            session, Channel.SMS, payload["to"], reason=str(exc), notification_id=None, now=now
        )


register_sender(Channel.SMS, Sender(prepare_sms, transmit_sms))
register_reach(Channel.SMS, phone.verified_number)
