"""Telling ticket holders that an event's time, venue or join link changed.

A published event changes when an admin approves a revision (events/moderation.py). In that
transaction `queue_change` compares the public version with the approved changes and, when the
time, the venue or the join link differ, queues one outbox job (nothing is read per holder
there: the admin's request and the event's lock stay short however many hold tickets). The job
(`fan_out`, run by the worker) writes, in one INSERT ... SELECT per channel, a mail and an
in-app copy to every person with a confirmed booking, once per person, keyed
`event:<id>:change:<revision id>:user:<user id>:event_changed:<channel>`. A job that dies is
retried by the outbox and adds only what is missing, so thousands of holders cost one job,
not one request.

The message names each change from what to what (the job's payload keeps both versions: the
event row holds only the new one). It is skipped at send time when the event is no longer
published or is over, or the person no longer holds a confirmed booking.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.domain.events import revisions
from app.domain.events.models import Event, EventRevision
from app.domain.notifications.models import Channel
from app.domain.outbox import enqueue

KIND = "event_changed"
TOPIC = "notifications.event_changed"
TIME = ("starts_at", "ends_at", "timezone")
VENUE = ("venue_name", "address", "city")
LINK = ("online_url",)
WATCHED = (*TIME, *VENUE, *LINK)

_FAN_OUT = text(
    "INSERT INTO notifications (key, kind, channel, user_id, recipient, payload, status, "
    "due_at, attempts, created_at) "
    "SELECT :prefix || u.id || :suffix, :kind, :channel, u.id, "
    "CASE WHEN :by_mail THEN u.email END, "
    "CAST(:payload AS jsonb) || jsonb_build_object('user_id', u.id), 'pending', :at, 0, :at "
    "FROM bookings b JOIN users u ON u.id = b.user_id "
    "WHERE b.event_id = :event_id AND b.status = 'confirmed' AND b.confirmed_at <= :at "
    "AND u.deleted_at IS NULL "
    "GROUP BY u.id, u.email "
    "ON CONFLICT (key) DO NOTHING"
)


def queue_change(session: Session, event: Event, revision: EventRevision, *, now: datetime) -> bool:
    """Before `revision` is applied to `event`: queue the holders' messages when it changes
    the time, venue or join link (True), in the caller's transaction."""
    before = revisions.material_of(event)
    after = revision.changes
    if all(before[name] == after[name] for name in WATCHED):
        return False
    enqueue(
        session,
        TOPIC,
        {
            "event_id": event.id,
            "change": revision.id,
            "before": {name: before[name] for name in WATCHED},
            "after": {name: after[name] for name in WATCHED},
            "at": now.isoformat(),
        },
    )
    return True


def fan_out(session: Session, job: Mapping[str, Any]) -> int:
    """Queue the change's message to every holder (the outbox job); how many were added.
    Rows are dated at the change, so a retried job writes the same rows."""
    at = datetime.fromisoformat(job["at"])
    event_id = int(job["event_id"])
    payload = {name: job[name] for name in ("event_id", "change", "before", "after")}
    added = 0
    for channel in (Channel.EMAIL, Channel.IN_APP):
        result = session.execute(
            _FAN_OUT,
            {
                "prefix": f"event:{event_id}:change:{int(job['change'])}:user:",
                "suffix": f":{KIND}:{channel.value}",
                "kind": KIND,
                "channel": channel.value,
                "by_mail": channel is Channel.EMAIL,
                "payload": json.dumps(payload),
                "at": at,
                "event_id": event_id,
            },
        )
        added += result.rowcount
    return added
