"""Sending due notifications: claim one under a lease, send it, record what happened.

The worker (jobs/notifications.py) runs, for each message, two short transactions:

1. `claim_next` takes the earliest due pending row (`FOR UPDATE SKIP LOCKED` over the partial
   index `ix_notifications_due`, so concurrent workers take different rows), adds one to
   `attempts` and pushes `due_at` forward by `LEASE`, and the worker commits that at once.
2. `prepare` renders the message (committed: rendering may create a ticket's signing key,
   which must exist before any mail carries a code signed with it), the channel's sender
   transmits it, then `record_sent` or `record_failure` writes the outcome, committed too.

The guarantee, exactly: a row is never lost (a committed row stays pending until it is sent,
fails for good or is skipped, and a crash at any point leaves it pending with a lease that runs
out), and while a lease lasts no other worker takes the row (the claim is one locked update).
A row is sent twice in two cases only: a worker dies after the provider accepted the message
and before step 2's commit, or a worker takes longer than `LEASE` to render and send (the
SMTP timeout is 10 s; the lease is two minutes). Either way the row is sent again after the
lease, with the same Message-ID (`message_id`, derived from the key), so a receiving server or
mail client can tell the repeat. At-least-once with a recognisable duplicate is the best any
sender can do without the provider taking part in the transaction. Outcomes are fenced by the
attempt number: a worker that outlived its lease finds the row re-claimed and writes nothing.

Temporary failures are retried with exponential backoff up to `MAX_ATTEMPTS`, then the row is
failed with its error, for an admin to see and retry. A permanent failure (the address is
refused) fails the row at once and records the address in `failing_addresses`; later messages
to it are skipped. A template error fails only its row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.domain import audit, live_notify
from app.domain.notifications.models import (
    Channel,
    FailingAddress,
    Notification,
    NotificationStatus,
)
from app.domain.notifications.preferences import topic_of, wants_kind
from app.domain.notifications.queue import CHANNEL as IN_APP_CHANNEL

# Longer than any send takes (the SMTP timeout is 10 s): a live worker never loses its lease.
LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 6
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)


class TemporaryFailure(Exception):
    """Try again later: the provider or the network is down, or it asked us to wait."""


class PermanentFailure(Exception):
    """The address or number is refused for good (a bounce, an invalid number)."""


class RenderFailure(Exception):
    """The message could not be built (a template error, its subject gone)."""


class Skip(Exception):
    """Nothing to send any more (the address is failing, the booking was cancelled)."""


@dataclass(frozen=True)
class Claim:
    id: int
    attempt: int  # the fencing token: the outcome is written only while it is still this


@dataclass(frozen=True)
class Sender:
    """A channel's sender, in two steps: `prepare` renders from the database (it may write, a
    ticket's signing key made on first use, say, so the caller commits before sending), and
    `transmit` hands the prepared message to the provider. Both raise the failures above."""

    prepare: Callable[[Session, Mapping[str, Any], Notification, datetime], Any]
    transmit: Callable[[Mapping[str, Any], Any], None]


# SMS and push register theirs beside email's.
SENDERS: dict[Channel, Sender] = {}


def register_sender(channel: Channel, sender: Sender) -> None:
    SENDERS[channel] = sender


def message_id(key: str, config: Mapping[str, Any]) -> str:
    """The same Message-ID for every send of one notification, so repeats can be recognised."""
    domain = str(config["MAIL_FROM"]).rpartition("@")[2].strip("> ") or "eventhall.local"
    return f"<n-{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def retry_delay(attempts: int) -> timedelta:
    return min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1))


def claim_next(session: Session, *, now: datetime) -> Claim | None:
    """Lease the earliest due pending row to this worker; the caller commits at once."""
    row = session.execute(
        text(
            "UPDATE notifications SET attempts = attempts + 1, due_at = :lease_end "
            "WHERE id = (SELECT id FROM notifications WHERE status = 'pending' AND due_at <= :now "
            "ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id, attempts"
        ),
        {"now": now, "lease_end": now + LEASE},
    ).one_or_none()
    return None if row is None else Claim(id=row.id, attempt=row.attempts)


def prepare(
    session: Session, config: Mapping[str, Any], claim: Claim, *, now: datetime
) -> tuple[Sender, Any]:
    """Render the claimed message for its channel (raises a failure, or Skip)."""
    notification = session.get(Notification, claim.id)
    if notification is None:
        raise RenderFailure("the notification is gone")
    sender = SENDERS.get(notification.channel)
    if sender is None:
        raise RenderFailure(f"no sender for the {notification.channel.value} channel")
    prepared = sender.prepare(session, config, notification, now)
    # After `prepare`: an in-app copy passes the message on to the other channels even when
    # its user turned the topic off in-app.
    user_id, kind, channel = notification.user_id, notification.kind, notification.channel
    if user_id is not None and not wants_kind(session, user_id, kind, channel):
        raise Skip(f"{topic_of(kind)} turned off on {channel.value}")
    return sender, prepared


def is_failing(session: Session, channel: Channel, address: str) -> bool:
    return failing_address(session, channel, address) is not None


def _finish(session: Session, claim: Claim, **values: object) -> bool:
    return _finished(session, claim, **values) is not None


def _finished(session: Session, claim: Claim, **values: object) -> Notification | None:
    """Write the outcome while the lease is still `claim`'s; the row, or None."""
    return session.scalar(
        update(Notification)
        .where(
            Notification.id == claim.id,
            Notification.status == NotificationStatus.PENDING,
            Notification.attempts == claim.attempt,
        )
        .values(**values)
        .returning(Notification)
        .execution_options(synchronize_session=False)
    )


def record_sent(session: Session, claim: Claim, *, now: datetime) -> bool:
    """Mark the message sent (False when its lease was lost meanwhile). An in-app one is shown
    now: its user's open pages hear of it when this commits."""
    row = _finished(session, claim, status=NotificationStatus.SENT, sent_at=now, last_error=None)
    if row is not None and row.channel is Channel.IN_APP and row.user_id is not None:
        live_notify.publish(session, IN_APP_CHANNEL, row.user_id)
    return row is not None


def record_skipped(session: Session, claim: Claim, reason: str) -> bool:
    return _finish(session, claim, status=NotificationStatus.SKIPPED, last_error=reason[:2000])


def record_failure(session: Session, claim: Claim, error: Exception, *, now: datetime) -> bool:
    """Schedule a retry for a temporary failure with tries left; otherwise fail the row (and,
    for a permanent one, mark its address failing)."""
    reason = f"{type(error).__name__}: {error}"[:2000]
    if isinstance(error, TemporaryFailure) and claim.attempt < MAX_ATTEMPTS:
        return _finish(session, claim, due_at=now + retry_delay(claim.attempt), last_error=reason)
    if not _finish(session, claim, status=NotificationStatus.FAILED, last_error=reason):
        return False
    if isinstance(error, PermanentFailure):
        notification = session.get(Notification, claim.id)
        if notification is not None and notification.recipient:
            mark_failing(
                session,
                notification.channel,
                notification.recipient,
                reason=str(error),
                notification_id=notification.id,
                now=now,
            )
    return True


def mark_failing(
    session: Session,
    channel: Channel,
    address: str,
    *,
    reason: str,
    notification_id: int | None,
    now: datetime,
) -> None:
    """Record that `address` is refused for good (the latest reason wins)."""
    statement = insert(FailingAddress).values(
        channel=channel,
        address=address.lower(),
        reason=reason[:2000],
        failed_at=now,
        notification_id=notification_id,
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["channel", "address"],
            set_={
                "reason": statement.excluded.reason,
                "failed_at": statement.excluded.failed_at,
                "notification_id": statement.excluded.notification_id,
            },
        )
    )


def failed(session: Session, *, limit: int = 100) -> list[Notification]:
    """The failed notifications, newest first (for the admins' list)."""
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.status == NotificationStatus.FAILED)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def retry(
    session: Session, notification_id: int, *, actor_id: int | None, now: datetime
) -> Notification | None:
    """Put a failed notification back in the queue with fresh tries (an admin's retry); None
    when it is not failed (retried already, or gone). Its last error stays until it is sent."""
    notification = session.get(Notification, notification_id, with_for_update=True)
    if notification is None or notification.status != NotificationStatus.FAILED:
        return None
    notification.status = NotificationStatus.PENDING
    notification.attempts = 0
    notification.due_at = now
    audit.record(
        session,
        "notification.retried",
        actor_id=actor_id,
        target=notification,
        now=now,
        kind=notification.kind,
        error=notification.last_error,
    )
    session.flush()
    return notification


def failing_address(session: Session, channel: Channel, address: str) -> FailingAddress | None:
    """Why messages to this address stop, if they do (shown to its owner)."""
    return session.get(FailingAddress, (channel, address.lower()))
