"""Which optional messages a user wants, on which channel, and one-click unsubscribe links.

Only reminders and digests can be turned off. Transactional messages (confirmations, failed
payments, refunds, cancellations, security mail) are no topic: they always go by email, and no
preference, link or page can stop them. No preference row means on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.domain.accounts.errors import InvalidToken
from app.domain.accounts.models import User
from app.domain.notifications.models import Channel, NotificationPreference

REMINDERS = "reminders"
DIGESTS = "digests"
TOPICS: tuple[str, ...] = (REMINDERS, DIGESTS)
CHANNELS: tuple[Channel, ...] = (Channel.EMAIL, Channel.SMS, Channel.PUSH, Channel.IN_APP)
# The settings grid: each topic on the channels its messages go on (fan_out.OTHER_CHANNELS); a
# digest is no text message.
GRID: tuple[tuple[str, Channel], ...] = (
    *((REMINDERS, channel) for channel in CHANNELS),
    *((DIGESTS, channel) for channel in CHANNELS if channel is not Channel.SMS),
)

# What a topic is called on the settings page and the unsubscribe page.
TOPIC_LABELS = {REMINDERS: "Event reminders", DIGESTS: "Sales digests (organizers)"}

# The kinds a user may turn off, by topic; every other kind is transactional.
TOPIC_OF_KIND = {"reminder_24h": REMINDERS, "reminder_1h": REMINDERS, "sales_digest": DIGESTS}

_UNSUBSCRIBE_SALT = "eventhall.unsubscribe"

Choices = Mapping[tuple[str, Channel], bool]  # (topic, channel) -> on


def topic_of(kind: str) -> str | None:
    """The topic a kind of message can be turned off by; None for transactional ones."""
    return TOPIC_OF_KIND.get(kind)


def wants(session: Session, user_id: int, topic: str | None, channel: Channel) -> bool:
    """Whether the user wants messages of `topic` on `channel`. `topic` None is a
    transactional message: always wanted (the sender sends those by email whatever is set)."""
    if topic is None:
        return True
    if topic not in TOPICS:
        raise ValueError(f"not a topic: {topic}")
    enabled = session.scalar(
        select(NotificationPreference.enabled).where(
            NotificationPreference.user_id == user_id,
            NotificationPreference.topic == topic,
            NotificationPreference.channel == channel,
        )
    )
    return enabled is not False


def wants_kind(session: Session, user_id: int, kind: str, channel: Channel) -> bool:
    """Whether a message of `kind` should go to the user on `channel`."""
    return wants(session, user_id, topic_of(kind), channel)


def choices(session: Session, user_id: int) -> dict[tuple[str, Channel], bool]:
    """Every (topic, channel) of the settings grid with the user's choice (on by default)."""
    grid = dict.fromkeys(GRID, True)
    rows = session.execute(
        select(
            NotificationPreference.topic,
            NotificationPreference.channel,
            NotificationPreference.enabled,
        ).where(NotificationPreference.user_id == user_id)
    )
    for topic, channel, enabled in rows:
        if (topic, channel) in grid:
            grid[(topic, channel)] = enabled
    return grid


def save_choices(session: Session, user_id: int, chosen: Choices, *, now: datetime) -> None:
    """Store the whole grid in one statement (a grid is saved entirely or not at all)."""
    values = [
        {"user_id": user_id, "topic": t, "channel": c, "enabled": on, "updated_at": now}
        for (t, c), on in chosen.items()
        if (t, c) in GRID
    ]
    if not values:
        return
    statement = insert(NotificationPreference).values(values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id", "topic", "channel"],
            set_={"enabled": statement.excluded.enabled, "updated_at": now},
            # A choice saved again as it was is no change (an unsubscribe link used twice).
            where=NotificationPreference.enabled.is_distinct_from(statement.excluded.enabled),
        )
    )


# --- one-click unsubscribe -------------------------------------------------------------


@dataclass(frozen=True)
class Unsubscription:
    """What an unsubscribe link stops: one topic on one channel for one user."""

    user_id: int
    topic: str
    channel: Channel


def _serializer(secret_key: str) -> URLSafeSerializer:
    # Its own salt: no other signed value of the site can pass for an unsubscribe link.
    return URLSafeSerializer(secret_key, salt=_UNSUBSCRIBE_SALT)


def unsubscribe_token(secret_key: str, user_id: int, topic: str, channel: Channel) -> str:
    """The signed token of an unsubscribe link. It never expires: a link in an old mail must
    still work (RFC 8058), and all it can do is turn one optional topic off."""
    if topic not in TOPICS:
        raise ValueError(f"not a topic: {topic}")
    return _serializer(secret_key).dumps([user_id, topic, channel.value])


def read_unsubscribe_token(session: Session, secret_key: str, token: str) -> Unsubscription:
    """What a token stops, if it is genuine and its user still exists; InvalidToken if not."""
    invalid = InvalidToken("That unsubscribe link is not valid.")
    try:
        user_id, topic, channel = _serializer(secret_key).loads(token)
    except (BadSignature, TypeError, ValueError) as exc:
        raise invalid from exc
    if not isinstance(user_id, int) or topic not in TOPICS or channel not in set(Channel):
        raise invalid
    user = session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise invalid
    return Unsubscription(user_id, topic, Channel(channel))


def unsubscribe(session: Session, secret_key: str, token: str, *, now: datetime) -> Unsubscription:
    """Turn off what the token names; doing it again changes nothing."""
    stop = read_unsubscribe_token(session, secret_key, token)
    save_choices(session, stop.user_id, {(stop.topic, stop.channel): False}, now=now)
    return stop
