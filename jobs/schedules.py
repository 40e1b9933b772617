"""Periodic sweeps the worker runs on cron schedules.

Each task takes a Session and the current time, does idempotent work, and returns how many
things it changed; the worker commits. Lazy checks on read cover the time between runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.domain.accounts.rate_limit import prune_attempts
from app.domain.api_tokens.idempotency import prune_keys
from app.domain.events.lifecycle import complete_past_events
from app.domain.notifications.digest import schedule_digests
from app.domain.notifications.holds import schedule_hold_warnings
from app.domain.notifications.reminders import schedule_reminders
from jobs.payment_tasks import queue_reconciliation
from jobs.ticketing_tasks import advance_waitlists, expire_holds, refresh_sold_counts


@dataclass(frozen=True)
class Schedule:
    cron: str
    task: Callable[[Session, datetime], int]


# Run every second by the worker, not on a cron: an expired hold goes back on sale, and onto
# every open page through the availability notification, within about a second (a run that
# finds nothing due is one query on the partial index of pending holds).
EVERY_SECOND: dict[str, Callable[[Session, datetime], int]] = {"expire_holds": expire_holds}

SCHEDULES: dict[str, Schedule] = {
    "advance_waitlists": Schedule("* * * * *", advance_waitlists),
    # Queues reminders up to an hour ahead of their moment (reminders.MARGIN): a missed run
    # or two is harmless, and one that finds a moment passed queues it due at once.
    "schedule_reminders": Schedule("* * * * *", schedule_reminders),
    # Queues "your hold ends soon" a few minutes ahead of its moment (holds.LOOKAHEAD), off the
    # rush's hold transaction.
    "schedule_hold_warnings": Schedule("* * * * *", schedule_hold_warnings),
    # Each organizer's digest once a day, at the first run after their local hour.
    "schedule_digests": Schedule("*/10 * * * *", schedule_digests),
    "refresh_sold_counts": Schedule("*/5 * * * *", refresh_sold_counts),
    "complete_past_events": Schedule("*/10 * * * *", complete_past_events),
    "queue_reconciliation": Schedule("*/5 * * * *", queue_reconciliation),
    "prune_attempts": Schedule("17 * * * *", lambda s, now: prune_attempts(s, now=now)),
    "prune_idempotency_keys": Schedule("23 * * * *", prune_keys),
}
