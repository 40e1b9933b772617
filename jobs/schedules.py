"""Periodic sweeps the worker runs on cron schedules.

Each task takes a Session and the current time, does idempotent work, and returns how many
things it changed; the worker commits. Lazy checks on read cover the time between runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.domain.accounts.rate_limit import prune_login_attempts
from app.domain.events.lifecycle import complete_past_events
from jobs.ticketing_tasks import advance_waitlists, expire_holds, refresh_sold_counts


@dataclass(frozen=True)
class Schedule:
    cron: str
    task: Callable[[Session, datetime], int]


SCHEDULES: dict[str, Schedule] = {
    "expire_holds": Schedule("* * * * *", expire_holds),
    "advance_waitlists": Schedule("* * * * *", advance_waitlists),
    "refresh_sold_counts": Schedule("*/5 * * * *", refresh_sold_counts),
    "complete_past_events": Schedule("*/10 * * * *", complete_past_events),
    "prune_login_attempts": Schedule("17 * * * *", lambda s, now: prune_login_attempts(s, now=now)),
}
