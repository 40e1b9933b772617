"""Live updates: one LISTEN connection per process, fanned out to SSE subscribers.

Domain code publishes `NOTIFY <channel>, '<event id>'` in the transaction that changed
something of an event (app/domain/live_notify.py): its availability, or its check-ins; or, on
the notifications channel, a user's in-app notifications (the id is then the user's). Here a
single listener thread (a greenlet under gevent) holds the process's only LISTEN connection,
listening on every channel, and wakes the subscribers of that channel and event through small
in-process queues, however many browsers are open.

- Bursts are coalesced: an event's subscribers are woken at most once per `coalesce_seconds`
  (the first change of a quiet period at once, later ones at the end of the window); a woken
  subscriber re-reads the current state, so nothing is lost by folding wake-ups together.
- `version(event_id, channel)` moves on every notification, so cached renderings know when
  they are stale.
  A reconnect (or a restart after idling) starts a new epoch: notifications may have been missed
  meanwhile, so everything cached counts as stale and every subscriber is woken.
- The listener starts with the first subscriber (tests and CLI commands never open it) and
  stops after `idle_seconds` without subscribers, or on `stop()`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import psycopg
from flask import Flask

from app.db import direct_url, libpq_url
from app.domain.checkin.scans import CHANNEL as CHECK_INS
from app.domain.events.changes import CATEGORIES, DETAILS
from app.domain.notifications.queue import CHANNEL as NOTIFICATIONS
from app.domain.ticketing.availability import CHANNEL as AVAILABILITY

log = logging.getLogger(__name__)

APPLICATION_NAME = "eventhall-live"
CHANNELS = (AVAILABILITY, CHECK_INS, NOTIFICATIONS, DETAILS, CATEGORIES)

Key = tuple[str, int]  # (channel, event id)


class Subscription:
    """One subscriber's wake-ups for one event on one channel; at most one is ever pending."""

    def __init__(self, event_id: int, channel: str = AVAILABILITY) -> None:
        self.event_id = event_id
        self.channel = channel
        self._wakeups: queue.Queue[bool] = queue.Queue(maxsize=1)

    def wake(self) -> None:
        # Already pending is fine: a woken subscriber re-reads everything anyway.
        with suppress(queue.Full):
            self._wakeups.put_nowait(True)

    def wait(self, timeout: float) -> bool:
        """True when the event changed since the last wait, False after `timeout` seconds."""
        try:
            return self._wakeups.get(timeout=timeout)
        except queue.Empty:
            return False


class LiveHub:
    def __init__(
        self,
        dsn: str,
        *,
        coalesce_seconds: float = 0.25,
        idle_seconds: float = 30.0,
        reconnect_seconds: float = 1.0,
        channels: tuple[str, ...] = CHANNELS,
    ) -> None:
        self.dsn = dsn
        self.channels = channels
        self.coalesce_seconds = coalesce_seconds
        self.idle_seconds = idle_seconds
        self.reconnect_seconds = reconnect_seconds
        self._lock = threading.Lock()
        self._subscribers: dict[Key, set[Subscription]] = defaultdict(set)
        self._versions: dict[Key, int] = defaultdict(int)
        self._epoch = 0
        self._last_wake: dict[Key, float] = {}
        self._due: dict[Key, float] = {}  # (channel, event id) -> when its wake-up is due
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()  # the running listener's; each start gets a new one
        self._idle_since = time.monotonic()
        self.listening = threading.Event()  # set while the LISTEN connection is up
        self._closed = False  # closed for good: never listens again

    # --- subscribers -------------------------------------------------------------------

    @contextmanager
    def subscribe(self, event_id: int, channel: str = AVAILABILITY) -> Iterator[Subscription]:
        if channel not in self.channels:
            raise ValueError(f"not a channel of this hub: {channel}")
        key = (channel, event_id)
        subscription = Subscription(event_id, channel)
        with self._lock:
            self._subscribers[key].add(subscription)
            self._start_locked()
        try:
            yield subscription
        finally:
            with self._lock:
                self._subscribers[key].discard(subscription)
                if not self._subscribers[key]:
                    del self._subscribers[key]
                if not self._subscribers:
                    self._idle_since = time.monotonic()

    def keep_listening(self) -> None:
        """Start the listener if needed and keep it through another idle period: renderings
        cached by `version` (the seat page's) need it to follow changes without subscribers."""
        with self._lock:
            self._start_locked()
            if not self._subscribers:
                self._idle_since = time.monotonic()

    def version(self, event_id: int, channel: str = AVAILABILITY) -> tuple[int, int]:
        """Changes whenever what `channel` tells of `event_id` may have changed."""
        with self._lock:
            return (self._epoch, self._versions[(channel, event_id)])

    def subscriber_count(self) -> int:
        with self._lock:
            return sum(len(subs) for subs in self._subscribers.values())

    def close(self, timeout: float = 5.0) -> None:
        """Stop for good, as the app goes away: streams still open (a browser's lasts until its
        next keep-alive) are never listened for again, nor reconnect to a database that may be
        gone."""
        with self._lock:
            self._closed = True
        self.stop(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the listener and close its connection (subscribers simply stop being woken)."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._stopping.set()
        if thread is not None:
            thread.join(timeout)

    # --- the listener ------------------------------------------------------------------

    def _start_locked(self) -> None:
        if self._thread is not None or self._closed:
            return
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(self._stopping,), name="live-listener", daemon=True
        )
        self._thread.start()

    def _run(self, stopping: threading.Event) -> None:
        while not stopping.is_set():
            try:
                self._listen(stopping)
            except psycopg.OperationalError as error:
                self.listening.clear()
                log.warning("live: LISTEN connection lost (%s); reconnecting", error)
                stopping.wait(self.reconnect_seconds)
                self._stop_if_idle(stopping)
        self.listening.clear()
        with self._lock:
            if self._thread is threading.current_thread():
                self._thread = None

    def _listen(self, stopping: threading.Event) -> None:
        with psycopg.connect(self.dsn, autocommit=True, application_name=APPLICATION_NAME) as conn:
            for channel in self.channels:
                conn.execute(f"LISTEN {channel}")
            with self._lock:
                self._epoch += 1
                self._due.clear()
                everyone = [s for subs in self._subscribers.values() for s in subs]
            self.listening.set()
            for subscription in everyone:  # changes made while nobody listened
                subscription.wake()
            while not stopping.is_set():
                for note in conn.notifies(timeout=self._wait_seconds(), stop_after=1):
                    self._changed(note.channel, note.payload)
                self._wake_due()
                self._stop_if_idle(stopping)

    def _changed(self, channel: str, payload: str) -> None:
        try:
            key = (channel, int(payload))
        except ValueError:
            return
        now = time.monotonic()
        with self._lock:
            self._versions[key] += 1
            subscribers = list(self._subscribers.get(key, ()))
            if not subscribers or key in self._due:
                return
            ready_at = self._last_wake.get(key, 0.0) + self.coalesce_seconds
            if now < ready_at:
                self._due[key] = ready_at
                return
            self._last_wake[key] = now
        for subscription in subscribers:
            subscription.wake()

    def _wake_due(self) -> None:
        now = time.monotonic()
        with self._lock:
            due = [key for key, at in self._due.items() if at <= now]
            woken = []
            for key in due:
                del self._due[key]
                self._last_wake[key] = now
                woken.extend(self._subscribers.get(key, ()))
        for subscription in woken:
            subscription.wake()

    def _wait_seconds(self) -> float:
        with self._lock:
            if self._due:
                return max(0.0, min(self._due.values()) - time.monotonic())
        return 0.5

    def _stop_if_idle(self, stopping: threading.Event) -> None:
        with self._lock:
            if self._subscribers or time.monotonic() - self._idle_since < self.idle_seconds:
                return
            # Forget this listener now, under the lock: the next subscriber starts a fresh one.
            stopping.set()
            if self._thread is threading.current_thread():
                self._thread = None


_create_lock = threading.Lock()


def hub_for(app: Flask) -> LiveHub:
    """The app's hub, created on first use (its listener starts with the first subscriber)."""
    hub = app.extensions.get("live_hub")
    if hub is None:
        with _create_lock:
            hub = app.extensions.get("live_hub")
            if hub is None:
                hub = LiveHub(
                    libpq_url(direct_url(app.config)),
                    coalesce_seconds=int(app.config["LIVE_COALESCE_MS"]) / 1000,
                )
                app.extensions["live_hub"] = hub
    return hub
