"""What the public pages read most, kept in each process: event details and the categories.

An entry is used only while nothing announced a change to it: each carries the live hub's
version of its keys (app/live.py), which moves when a NOTIFY about them arrives (sent in the
transaction that changed them, app/domain/events/changes.py) and for everything when the
LISTEN connection comes back after a loss. A change is therefore seen by every process as soon
as its notification arrives (well under a second). Should the connection die unnoticed, no
entry outlives `EVENT_CACHE_SECONDS`. Availability is never kept here: the ticket panel reads
it on every request, and live streams push its changes.

Entries are detached ORM objects with everything their pages show loaded (they are read from
their own session, closed at once, so no commit ever expires them): read-only, shared by the
process's threads, never added to a request's session. Signed-in visitors read the database:
one of them may be the organizer or admin who has just made the change and is shown the page.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from cachetools import TTLCache
from flask import current_app

from app.db import Database, get_db, get_session
from app.domain.accounts.models import User
from app.domain.events.categories import list_categories
from app.domain.events.changes import ALL_CATEGORIES, CATEGORIES, DETAILS
from app.domain.events.models import Category, Event
from app.domain.events.visibility import load_event_page, visible_to
from app.live import LiveHub, hub_for

T = TypeVar("T")
Key = tuple[str, int]  # (channel, id), as the live hub counts them
MAX_EVENTS = 2048

_CATEGORY_LIST: Key = (CATEGORIES, ALL_CATEGORIES)


class HotReads:
    def __init__(
        self,
        hub: LiveHub,
        database: Database,
        *,
        seconds: float,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.hub = hub
        self.database = database
        self._lock = threading.Lock()
        self._entries: TTLCache[Key, tuple[tuple[Any, ...], Any]] = TTLCache(
            maxsize=MAX_EVENTS, ttl=seconds, timer=timer
        )

    def event(self, event_id: int) -> Event | None:
        """The event with its page's details (its category's name among them)."""
        return self._read(
            (DETAILS, event_id), lambda session: load_event_page(session, event_id), _CATEGORY_LIST
        )

    def categories(self) -> list[Category]:
        return self._read(_CATEGORY_LIST, list_categories)

    def _read(self, key: Key, load: Callable[[Any], T | None], *depends: Key) -> T | None:
        self.hub.keep_listening()  # so that versions follow changes
        # Read before the database is: a change committed after this moves the version.
        version = tuple(self.hub.version(number, channel) for channel, number in (key, *depends))
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and entry[0] == version:
            return entry[1]
        with self.database.session() as session:
            value = load(session)
        if value is not None:
            with self._lock:
                self._entries[key] = (version, value)
        return value


_create_lock = threading.Lock()


def _hot_reads() -> HotReads | None:
    """The app's cache, or None when EVENT_CACHE_SECONDS is 0."""
    app = current_app
    seconds = float(app.config["EVENT_CACHE_SECONDS"])
    if seconds <= 0:
        return None
    reads = app.extensions.get("hot_reads")
    if reads is None:
        with _create_lock:
            reads = app.extensions.get("hot_reads")
            if reads is None:
                reads = HotReads(hub_for(app), get_db(), seconds=seconds)
                app.extensions["hot_reads"] = reads
    return reads


def event_for_page(event_id: int, viewer: User | None) -> Event:
    """The event page's event if `viewer` may see it (NotFound otherwise)."""
    reads = _hot_reads()
    if reads is None or viewer is not None:
        return visible_to(load_event_page(get_session(), event_id), viewer)
    return visible_to(reads.event(event_id), viewer)


def categories() -> list[Category]:
    reads = _hot_reads()
    return list_categories(get_session()) if reads is None else reads.categories()
