"""What each outbox topic does when its message is delivered."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from app.domain.accounts.phone import SMS_TOPIC
from app.domain.notifications import event_changes
from app.domain.notifications.mail import EMAIL_TOPIC
from app.domain.notifications.sms import send_code
from app.domain.payments.reconciliation import RECONCILE_TOPIC
from app.domain.payments.refunds import REFUND_CANCELLED_EVENT_TOPIC, SEND_REFUND_TOPIC
from app.integrations import mail
from app.integrations.payments.demo import WEBHOOK_TOPIC as DEMO_WEBHOOK_TOPIC
from jobs import payment_tasks

# A handler gets the delivering transaction's session (what it writes commits with the
# message's delivery, and is rolled back if it raises), the settings and the payload.
Handler = Callable[[Session, Mapping[str, Any], Mapping[str, Any]], None]


def send_email(session: Session, config: Mapping[str, Any], payload: Mapping[str, Any]) -> None:
    mail.deliver(
        config,
        to=payload["to"],
        subject=payload["subject"],
        text=payload["text"],
        html=payload.get("html"),
    )


def fan_out_event_change(
    session: Session, config: Mapping[str, Any], payload: Mapping[str, Any]
) -> None:
    event_changes.fan_out(session, payload)


HANDLERS: dict[str, Handler] = {
    EMAIL_TOPIC: send_email,
    event_changes.TOPIC: fan_out_event_change,
    SMS_TOPIC: send_code,
    SEND_REFUND_TOPIC: payment_tasks.send_refund,
    REFUND_CANCELLED_EVENT_TOPIC: payment_tasks.refund_cancelled_event,
    RECONCILE_TOPIC: payment_tasks.reconcile,
    DEMO_WEBHOOK_TOPIC: payment_tasks.deliver_demo_webhook,
}


def dispatch(
    session: Session, config: Mapping[str, Any], topic: str, payload: Mapping[str, Any]
) -> None:
    try:
        handler = HANDLERS[topic]
    except KeyError:
        raise ValueError(f"no handler for outbox topic {topic!r}") from None
    handler(session, config, payload)
