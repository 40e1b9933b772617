"""The channels a kind of message goes on besides email, and the worker step that reaches them.

A message to a user is queued in its cause's transaction as a mail and an in-app copy
(`queue.notify_user`); nothing is looked up there, so a rush's booking transaction only
inserts. When the copy is due, the worker takes it like any other row: `prepare_in_app` queues
the kind's other channels for a user who can get them (a verified phone, a browser that
opted in to push; each channel registers how it reaches a user), and `record_sent` shows the
copy and announces it on the bell's LISTEN channel. The other channels' keys are the copy's
with their channel, so a copy taken twice queues nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.domain.notifications.delivery import RenderFailure, Sender, register_sender
from app.domain.notifications.models import Channel, Notification
from app.domain.notifications.queue import notify

SMS, PUSH = Channel.SMS, Channel.PUSH

# kind -> the channels it goes on besides email and in-app. A text message costs money and
# wakes people: only what cannot wait goes by SMS.
OTHER_CHANNELS: dict[str, tuple[Channel, ...]] = {
    "booking_confirmed": (PUSH,),
    "payment_failed": (PUSH,),
    "hold_expiring": (PUSH, SMS),
    "waitlist_offer": (PUSH, SMS),
    "refund_issued": (PUSH,),
    "booking_cancelled": (PUSH,),
    "event_changed": (PUSH, SMS),
    "event_cancelled": (PUSH, SMS),
    "reminder_24h": (PUSH,),
    "reminder_1h": (PUSH, SMS),
    "event_approved": (PUSH,),
    "event_rejected": (PUSH,),
    "event_cancelled_by_admin": (PUSH,),
    "sales_digest": (PUSH,),
}

# How a channel reaches a user: the recipient to record (a verified number), or None when the
# user cannot be reached on it. The SMS and push modules register theirs.
Reach = Callable[[Session, int], str | None]
REACH: dict[Channel, Reach] = {}


def register_reach(channel: Channel, reach: Reach) -> None:
    REACH[channel] = reach


def pass_on(session: Session, copy: Notification, now: datetime) -> int:
    """Queue `copy`'s message on the kind's other channels its user can get; how many added.
    Turned-off optional kinds are written skipped by `notify`."""
    if copy.user_id is None:
        raise RenderFailure("an in-app notification needs a user")
    stem = copy.key.removesuffix(f":{Channel.IN_APP.value}")
    added = 0
    for channel in OTHER_CHANNELS.get(copy.kind, ()):
        reach = REACH.get(channel)
        recipient = reach(session, copy.user_id) if reach is not None else None
        if recipient is None:
            continue
        added += notify(
            session,
            key=f"{stem}:{channel.value}",
            kind=copy.kind,
            channel=channel,
            now=now,
            user_id=copy.user_id,
            recipient=recipient,
            payload=dict(copy.payload),
        )
    return added


def prepare_in_app(
    session: Session, config: Mapping[str, Any], copy: Notification, now: datetime
) -> None:
    pass_on(session, copy, now)


def transmit_in_app(config: Mapping[str, Any], prepared: None) -> None:
    """Nothing leaves the site: `record_sent` shows the copy."""


register_sender(Channel.IN_APP, Sender(prepare_in_app, transmit_in_app))
