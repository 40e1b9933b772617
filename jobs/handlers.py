"""What each outbox topic does when its message is delivered."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from app.domain.notifications.mail import EMAIL_TOPIC
from app.integrations import mail

Handler = Callable[[Mapping[str, Any], Mapping[str, Any]], None]


def send_email(config: Mapping[str, Any], payload: Mapping[str, Any]) -> None:
    mail.deliver(
        config,
        to=payload["to"],
        subject=payload["subject"],
        text=payload["text"],
        html=payload.get("html"),
    )


HANDLERS: dict[str, Handler] = {EMAIL_TOPIC: send_email}


def dispatch(config: Mapping[str, Any], topic: str, payload: Mapping[str, Any]) -> None:
    try:
        handler = HANDLERS[topic]
    except KeyError:
        raise ValueError(f"no handler for outbox topic {topic!r}") from None
    handler(config, payload)
