"""What the live stream sends, rendered once per change per process and shared by every subscriber.

A message is a list of htmx out-of-band swaps: the remaining count of each visible tier (into
every `.remaining[data-tier=ID]` on the page) and, for a page showing the seat map, the seat rows
that changed since the version this subscriber last received; the whole grid when it has none,
fell too far behind, or the layout changed. Each message's id names its version, so a browser
that reconnects (`Last-Event-ID`) gets only what it missed.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field

from flask import Flask, current_app

from app.db import get_db
from app.domain.base import utcnow
from app.domain.events.models import Event
from app.domain.ticketing.seatmap_view import public_remaining, seat_map_view
from app.live import LiveHub, hub_for

HISTORY = 8  # renderings remembered per page, to answer subscribers a few changes behind
MAX_PAGES = 64  # (event, seats, section) combinations cached per process
# A rendering is reused while no NOTIFY said the event changed, but never for longer than this,
# so a change that did not notify (a hold that merely ran out) still reaches new subscribers at
# once and open streams at their next keep-alive.
MAX_AGE_SECONDS = 1.0

Version = tuple[int, int]
PageKey = tuple[int, bool, int | None]  # event id, with seats, section shown


@dataclass(frozen=True)
class Snapshot:
    """The latest rendering of a page's live parts."""

    serial: int  # names the rendering in message ids
    version: Version  # the hub's version of the event when it was rendered
    rendered_at: float
    counts: str
    rows: dict[str, str]  # row key -> the row's out-of-band swap
    grid: str  # the whole grid's out-of-band swap ("" without seats)


@dataclass(frozen=True)
class Digest:
    """An earlier rendering, small: enough to tell which rows changed since."""

    serial: int
    counts: int
    rows: dict[str, int]

    @classmethod
    def of(cls, snapshot: Snapshot) -> Digest:
        rows = {key: hash(html) for key, html in snapshot.rows.items()}
        return cls(snapshot.serial, hash(snapshot.counts), rows)


@dataclass(frozen=True)
class Message:
    id: str
    data: str  # "" when nothing visible changed (the subscriber still moves to `id`)

    def encode(self) -> str:
        lines = "".join(f"data: {line}\n" for line in self.data.splitlines() if line.strip())
        return f"id: {self.id}\nevent: availability\n{lines}\n"


@dataclass
class _Page:
    lock: threading.Lock = field(default_factory=threading.Lock)
    latest: Snapshot | None = None
    history: deque[Digest] = field(default_factory=lambda: deque(maxlen=HISTORY))


class LiveFragments:
    def __init__(self, hub: LiveHub) -> None:
        self.hub = hub
        self._process = secrets.token_hex(4)  # ids from another process never match ours
        self._serials = itertools.count(1)
        self._lock = threading.Lock()
        self._pages: OrderedDict[PageKey, _Page] = OrderedDict()

    def message(
        self, event_id: int, *, seats: bool, section: int | None, since: str | None
    ) -> Message:
        """What a subscriber who last received `since` needs now (needs an app context)."""
        key: PageKey = (event_id, seats, section)
        page = self._page(key)
        with page.lock:
            version = self.hub.version(event_id)
            latest = page.latest
            if (
                latest is None
                or latest.version != version
                or time.monotonic() - latest.rendered_at > MAX_AGE_SECONDS
            ):
                page.latest = self._render(key, version)
                page.history.append(Digest.of(page.latest))
            current, now = page.latest, page.history[-1]
            before = next((d for d in page.history if self._id(d.serial) == since), None)
        ident = self._id(current.serial)
        if before is now:
            return Message(ident, "")
        if before is None or before.rows.keys() != now.rows.keys():
            return Message(ident, current.counts + current.grid)
        rows = [html for k, html in current.rows.items() if before.rows[k] != now.rows[k]]
        if not rows and before.counts == now.counts:
            return Message(ident, "")
        return Message(ident, current.counts + "".join(rows))

    def _id(self, serial: int) -> str:
        return f"{self._process}.{serial}"

    def _page(self, key: PageKey) -> _Page:
        with self._lock:
            page = self._pages.pop(key, None) or _Page()
            self._pages[key] = page  # most recently used last
            while len(self._pages) > MAX_PAGES:
                self._pages.popitem(last=False)
            return page

    def _render(self, key: PageKey, version: Version) -> Snapshot:
        # Straight from the Jinja environment: no request here, so no context processors.
        templates = current_app.jinja_env
        event_id, seats, section = key
        with get_db().session() as session:
            # One snapshot for counts and seats, so a message never shows them disagreeing.
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            counts = templates.get_template("public/_seatmap_counts.html").render(
                remaining=public_remaining(session, event_id, now=utcnow())
            )
            event = session.get(Event, event_id)
            if not seats or event is None:
                return Snapshot(next(self._serials), version, time.monotonic(), counts, {}, "")
            seatmap = seat_map_view(session, event, now=utcnow(), section=section)
        seat_row = templates.get_template("public/_seatmap_macros.html").module.seat_row
        rows = {row.key: str(seat_row(event_id, row, oob=True)) for row in seatmap.rows}
        grid = templates.get_template("public/_seatmap_grid.html").render(
            seatmap=seatmap, organizer=False, oob=True
        )
        return Snapshot(next(self._serials), version, time.monotonic(), counts, rows, grid)


_create_lock = threading.Lock()


def fragments_for(app: Flask) -> LiveFragments:
    """The app's live fragment cache (one per process, beside its hub)."""
    fragments = app.extensions.get("live_fragments")
    if fragments is None:
        with _create_lock:
            fragments = app.extensions.get("live_fragments")
            if fragments is None:
                fragments = LiveFragments(hub_for(app))
                app.extensions["live_fragments"] = fragments
    return fragments
