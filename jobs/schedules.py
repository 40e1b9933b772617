"""Periodic sweeps the worker runs on cron schedules.

Each task takes a Session, does its idempotent work with the current time, and returns how
many things it changed; the worker commits. Lazy checks on read cover the time between runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Schedule:
    cron: str
    task: Callable[[Session], int]


SCHEDULES: dict[str, Schedule] = {}
