"""The seat map and live counts, rendered once per change per process and shared by every
page view and every live subscriber.

A snapshot of a page (an event, with or without its seat map, and the part of a large venue
shown) is rendered through a small pool of connections of its own, and rendered again only
when the process's LISTEN connection says the event changed (`LiveHub.version`), or after
`MAX_AGE_SECONDS`; every seat page view and stream in between reuses it. Each seat row is
rendered once, and both the page's grid and the live swaps are built from those strings.

A live message is a list of htmx out-of-band swaps: the remaining count of each visible tier
(into every `.remaining[data-tier=ID]` on the page), the free seats of each part of a large
venue (into `.part-free[data-part=N]`) and, for a page showing seats, the seat rows that
changed since the version this subscriber last received; the whole grid when it has none,
fell too far behind, or the layout changed. Each message's id names its version, so a browser
that reconnects (`Last-Event-ID`) gets only what it missed.
"""

from __future__ import annotations

import itertools
import re
import secrets
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field

from flask import Flask, current_app
from markupsafe import Markup

from app.db import Database
from app.domain.base import NotFound, utcnow
from app.domain.events.models import Event
from app.domain.ticketing.seatmap_view import (
    SeatCell,
    SeatMapView,
    is_paged,
    public_remaining,
    seat_map_view,
    seat_parts,
)
from app.live import LiveHub, hub_for

HISTORY = 8  # renderings remembered per page, to answer subscribers a few changes behind
MAX_PAGES = 64  # (event, seats, part) combinations cached per process
MAX_LAYOUTS = 1024  # venues whose parts are remembered per process
# A rendering is reused while no NOTIFY said the event changed, but never for longer than this,
# so a change that did not notify (a hold that merely ran out) still reaches new subscribers at
# once and open streams at their next keep-alive.
MAX_AGE_SECONDS = 1.0
RENDER_POOL_SIZE = 2  # renders of different pages at once, per process

Version = tuple[int, int]
PageKey = tuple[int, bool, int | None]  # event id, with seats, part shown
NO_SUCH_PART = "We could not find that part of the venue."
_PART = re.compile(r"[0-9]{1,6}")


def requested_part(raw: str | None) -> int | None:
    """A `?section=` argument: absent, or a part's number; anything else is "not found"."""
    if raw is None:
        return None
    if not _PART.fullmatch(raw):
        raise NotFound(NO_SUCH_PART)
    return int(raw)


def requested_seats(raw: str | None) -> bool:
    """A `?seats=` argument: "1" with the seat rows, "0" or absent without; else "not found"."""
    if raw not in (None, "0", "1"):
        raise NotFound("We could not find that page.")
    return raw == "1"


def out_of_band(html: str) -> str:
    """An element's markup as an htmx out-of-band swap (by its id)."""
    return html.replace(">", ' hx-swap-oob="true">', 1)


@dataclass(frozen=True)
class Snapshot:
    """The latest rendering of a page's live parts."""

    serial: int  # names the rendering in message ids
    version: Version  # the hub's version of the event when it was rendered
    rendered_at: float
    remaining: dict[int, int]  # visible tier id -> units left
    counts: str  # the counts' out-of-band swaps
    seatmap: SeatMapView | None  # None without seats
    rows: dict[str, str]  # row key -> the row's markup
    grid: str  # the whole grid's markup ("" without seats)

    @property
    def grid_html(self) -> Markup:
        return Markup(self.grid)  # noqa: S704 - rendered by our autoescaping templates


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


@dataclass(frozen=True)
class Layout:
    """How many parts a venue has (0 without seats), as last read: tells a real part from a
    made-up one before anything is rendered."""

    version: Version
    read_at: float
    parts: int
    paged: bool


@dataclass
class _Page:
    lock: threading.Lock = field(default_factory=threading.Lock)
    latest: Snapshot | None = None
    history: deque[Digest] = field(default_factory=lambda: deque(maxlen=HISTORY))
    # row key -> (its seats when rendered, its markup): a row renders again only when it changed
    rows: dict[str, tuple[list[SeatCell], str]] = field(default_factory=dict)


class LiveFragments:
    def __init__(self, hub: LiveHub, database: Database) -> None:
        self.hub = hub
        # Renders read through a pool of their own: a page request already holds one of the
        # request pool's connections when it asks for a snapshot, and the requests waiting for
        # the same rendering hold theirs, so rendering through that pool could wait for ever.
        self.database = database
        self._process = secrets.token_hex(4)  # ids from another process never match ours
        self._serials = itertools.count(1)
        self._lock = threading.Lock()
        self._pages: OrderedDict[PageKey, _Page] = OrderedDict()
        self._layouts: OrderedDict[int, Layout] = OrderedDict()
        self._layout_read = threading.Lock()  # one read of a stale layout at a time

    def page_key(self, event_id: int, *, seats: bool, section: int | None) -> PageKey:
        """The cached page a request names, or NotFound for a part the venue does not have:
        a made-up part never becomes a cache entry, nor costs a rendering. A part of a venue
        shown whole (or without seats) is the page without part."""
        if section is None:
            return (event_id, seats, None)
        if section < 0:
            raise NotFound(NO_SUCH_PART)
        layout = self._layouts.get(event_id)
        if layout is None or (section >= layout.parts and self._stale(event_id, layout)):
            layout = self._read_layout(event_id)
        if section >= layout.parts:
            raise NotFound(NO_SUCH_PART)
        return (event_id, seats, section if seats and layout.paged else None)

    def snapshot(
        self, event_id: int, *, seats: bool, section: int | None, fresh: bool = False
    ) -> Snapshot:
        """The current rendering of a page (needs an app context); `fresh` renders it anew
        (for a page that must show a change its request just learned of). NotFound for a part
        the venue does not have.

        While another request is rendering the page again, the rendering before it is served
        rather than waited for (it is at most one change behind, and the page's live stream
        brings the change): under a rush the page changes several times a second."""
        key = self.page_key(event_id, seats=seats, section=section)
        page = self._page(key)
        latest = page.latest
        if fresh or latest is None:
            page.lock.acquire()
        elif not page.lock.acquire(blocking=False):
            return latest  # being rendered again right now: serve the one before
        try:
            return self._latest(key, page, fresh=fresh)
        finally:
            page.lock.release()

    def message(
        self, event_id: int, *, seats: bool, section: int | None, since: str | None
    ) -> Message:
        """What a subscriber who last received `since` needs now (needs an app context);
        NotFound for a part the venue does not have."""
        current, history = self._current(self.page_key(event_id, seats=seats, section=section))
        now = history[-1]
        before = next((d for d in history if self._id(d.serial) == since), None)
        ident = self._id(current.serial)
        if before is now:
            return Message(ident, "")
        if before is None or before.rows.keys() != now.rows.keys():
            grid = out_of_band(current.grid) if current.grid else ""
            return Message(ident, current.counts + grid)
        rows = [
            out_of_band(html)
            for key, html in current.rows.items()
            if before.rows[key] != now.rows[key]
        ]
        if not rows and before.counts == now.counts:
            return Message(ident, "")
        return Message(ident, current.counts + "".join(rows))

    def close(self) -> None:
        self.database.engine.dispose()

    def _current(self, key: PageKey) -> tuple[Snapshot, list[Digest]]:
        page = self._page(key)
        with page.lock:
            return self._latest(key, page), list(page.history)

    def _latest(self, key: PageKey, page: _Page, *, fresh: bool = False) -> Snapshot:
        """The page's rendering, renewed when it is out of date (the caller holds its lock)."""
        self.hub.keep_listening()  # so `version` follows the event's changes
        version = self.hub.version(key[0])
        latest = page.latest
        if (
            fresh
            or latest is None
            or latest.version != version
            or time.monotonic() - latest.rendered_at > MAX_AGE_SECONDS
        ):
            try:
                page.latest = self._render(key, version, page)
            except NotFound:
                self._drop(key)  # the part went away with a new layout
                raise
            page.history.append(Digest.of(page.latest))
        return page.latest

    def _stale(self, event_id: int, layout: Layout) -> bool:
        self.hub.keep_listening()
        return (
            layout.version != self.hub.version(event_id)
            or time.monotonic() - layout.read_at > MAX_AGE_SECONDS
        )

    def _read_layout(self, event_id: int) -> Layout:
        """The venue's parts read afresh: once per change however many requests ask at once
        (needs an app context)."""
        with self._layout_read:
            layout = self._layouts.get(event_id)
            if layout is not None and not self._stale(event_id, layout):
                return layout
            version = self.hub.version(event_id)
            with self.database.session() as session:
                parts = seat_parts(session, event_id)
            return self._remember(
                event_id, Layout(version, time.monotonic(), len(parts), is_paged(parts))
            )

    def _remember(self, event_id: int, layout: Layout) -> Layout:
        with self._lock:
            self._layouts.pop(event_id, None)
            self._layouts[event_id] = layout  # most recently used last
            while len(self._layouts) > MAX_LAYOUTS:
                self._layouts.popitem(last=False)
        return layout

    def _drop(self, key: PageKey) -> None:
        with self._lock:
            self._pages.pop(key, None)

    def _id(self, serial: int) -> str:
        return f"{self._process}.{serial}"

    def _page(self, key: PageKey) -> _Page:
        with self._lock:
            page = self._pages.pop(key, None) or _Page()
            self._pages[key] = page  # most recently used last
            while len(self._pages) > MAX_PAGES:
                self._pages.popitem(last=False)
            return page

    def _render(self, key: PageKey, version: Version, page: _Page) -> Snapshot:
        # Straight from the Jinja environment: no request here, so no context processors.
        templates = current_app.jinja_env
        event_id, seats, section = key
        with self.database.session() as session:
            # One snapshot for counts and seats, so a message never shows them disagreeing.
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            remaining = public_remaining(session, event_id, now=utcnow())
            event = session.get(Event, event_id)
            seatmap = None
            if seats and event is not None and event.is_seated:
                seatmap = seat_map_view(session, event, now=utcnow(), section=section)
        if seatmap is not None:
            parts = len(seatmap.sections)
            self._remember(event_id, Layout(version, time.monotonic(), parts, seatmap.paged))
            if section is not None and section >= parts:
                raise NotFound(NO_SUCH_PART)
        counts = templates.get_template("public/_seatmap_counts.html").render(
            remaining=remaining, seatmap=seatmap
        )
        rows: dict[str, str] = {}
        grid = ""
        if seatmap is not None:
            seat_row = templates.get_template("public/_seatmap_macros.html").module.seat_row
            for row in seatmap.rows:
                cached = page.rows.get(row.key)
                if cached is None or cached[0] != row.cells:
                    cached = (row.cells, str(seat_row(event_id, row)))
                    page.rows[row.key] = cached
                rows[row.key] = cached[1]
            grid = templates.get_template("public/_seatmap_grid.html").render(
                seatmap=seatmap, organizer=False, rows_html=rows
            )
        serial = next(self._serials)
        return Snapshot(
            serial, version, time.monotonic(), remaining, counts, seatmap, rows, grid.strip()
        )


_create_lock = threading.Lock()


def fragments_for(app: Flask) -> LiveFragments:
    """The app's live fragment cache (one per process, beside its hub)."""
    fragments = app.extensions.get("live_fragments")
    if fragments is None:
        with _create_lock:
            fragments = app.extensions.get("live_fragments")
            if fragments is None:
                database = app.extensions["db"].sibling(pool_size=RENDER_POOL_SIZE)
                fragments = LiveFragments(hub_for(app), database)
                app.extensions["live_fragments"] = fragments
    return fragments
