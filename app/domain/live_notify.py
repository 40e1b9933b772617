"""Live notifications: tell every web process, after commit, that something of an event changed.

`NOTIFY` is transactional: listeners hear it only if the transaction commits, and repeated
identical notifications within one transaction are folded into one by PostgreSQL. Payloads are
event ids only; a listener re-reads what it shows. Each kind of change has its own channel
(availability, check-ins), heard by the process's one LISTEN connection (app/live.py).

Coalescing: a transaction that has issued NOTIFY takes a database-wide lock at commit, so a
ticket rush (or a door rush) in which every transaction notifies serializes its commits there
(measured by `make bench-rush`: pgbench ran the claim at about half the rate with a NOTIFY in
each transaction). Listeners only need to know *that* an event changed, so each process
notifies about an event on a channel at most once per `interval` seconds: the first change of
a quiet period notifies in its own transaction at once; changes inside the window are
remembered, and once their transaction has committed one trailing NOTIFY is sent when the
window ends. No change goes unannounced for longer than the interval.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_NOTIFY = text("SELECT pg_notify(:channel, :payload)")
_PENDING_KEY = "live_notify_pending"

Key = tuple[str, int]  # (channel, event id)


class _Coalescer:
    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.lock = threading.Lock()
        self.last_sent: dict[Key, float] = {}
        self.trailing: set[Key] = set()  # keys with a trailing NOTIFY scheduled

    def should_send_now(self, key: Key) -> bool:
        now = time.monotonic()
        with self.lock:
            if now - self.last_sent.get(key, -1e9) >= self.interval:
                self.last_sent[key] = now
                return True
            return False

    def schedule_trailing(self, engine: Engine, key: Key) -> None:
        """Called after the commit of a transaction whose NOTIFY was held back."""
        with self.lock:
            if key in self.trailing:
                return
            self.trailing.add(key)
            delay = max(0.0, self.last_sent.get(key, 0.0) + self.interval - time.monotonic())
        timer = threading.Timer(delay, self._send_trailing, args=(engine, key))
        timer.daemon = True
        timer.start()

    def _send_trailing(self, engine: Engine, key: Key) -> None:
        with self.lock:
            self.trailing.discard(key)
            self.last_sent[key] = time.monotonic()
        channel, event_id = key
        try:
            with engine.connect() as conn:
                conn.execute(_NOTIFY, {"channel": channel, "payload": str(event_id)})
                conn.commit()
        except Exception:  # noqa: BLE001 - a lost wake-up is healed by the next change
            log.info("trailing %s notification for event %s failed", channel, event_id)


_coalescer = _Coalescer(interval=0.25)


def configure(*, interval_seconds: float) -> None:
    """Set the coalescing window of this process (0 notifies in every transaction)."""
    _coalescer.interval = interval_seconds


def configure_from(config: Mapping[str, Any]) -> None:
    """The window from the settings (`AVAILABILITY_NOTIFY_INTERVAL_MS`): web and worker both."""
    configure(interval_seconds=int(config["AVAILABILITY_NOTIFY_INTERVAL_MS"]) / 1000)


def publish(session: Session, channel: str, event_id: int) -> None:
    """Tell every web process (after commit) that event `event_id` changed on `channel`."""
    key = (channel, event_id)
    if _coalescer.should_send_now(key):
        session.execute(_NOTIFY, {"channel": channel, "payload": str(event_id)})
    else:
        session.info.setdefault(_PENDING_KEY, set()).add(key)


@event.listens_for(Session, "after_commit")
def _send_held_back(session: Session) -> None:
    pending = session.info.pop(_PENDING_KEY, None)
    if pending:
        bind = session.get_bind()
        engine = getattr(bind, "engine", bind)
        for key in pending:
            _coalescer.schedule_trailing(engine, key)


@event.listens_for(Session, "after_soft_rollback")
def _forget_held_back(session: Session, _previous_transaction: object) -> None:
    session.info.pop(_PENDING_KEY, None)
