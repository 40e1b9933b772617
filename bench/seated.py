"""`make bench-seated`: a rush on a seated venue, best available and hand-picked, against
general admission in the same run.

The site runs as in production (bench/server.py: gunicorn with gunicorn.conf.py, the worker
process, an embedded PostgreSQL). SEATED_BUYERS (default 200) buyers log in through the login
form, each with its own session, and take their CSRF token from a tickets page (aiohttp,
before anything is measured), as bench/rush.py's do. Three events are built through the domain
services, each with as many units as the venue has seats:

- two seated events of SEATED_SECTIONS x SEATED_ROWS x SEATED_SEATS seats (default
  3 x 25 x 40 = 3,000: sections "S1".., rows "1".., seats 1..), laid out with
  `seatmap.replace_layout` and zoned with `seatmap.change_seats`: rows 1 to SEATED_FRONT_ROWS
  (default 10) of every section are "Front" (60.00), the others "Back" (40.00). Both zones are
  paid (every sale is a hold) with a per-user limit of 1,000 that is never reached (every claim
  still takes the buyer's limit lock and counts, as in the rush);
- one general-admission event of the same number of units (bench.load.create_hot_event).

Three phases, one after the other, with the same buyers:

1. Best available (Debian's wrk with bench/seated.lua, as light a client as bench/rush.py's):
   SEATED_BUYERS connections POST `/events/<id>/seats/best` (csrf_token, quantity=
   SEATED_QUANTITY (2), tier_id) with `HX-Request: true`, as the page's htmx does. Buyer n asks
   for zone n mod 2 (half the buyers Front, half Back) and for the other zone once its own is
   closed. A hold is a 303 or a 204 with HX-Redirect; a refusal is a 409 whose message (the
   fragment's alert) names the zone and says "sold out" (`is sold out`, `fewer than the`) or
   "not together" (`seats together are left`). A zone is closed for every buyer at its first
   such answer (as a live page shows "Sold out" to all); the phase ends when every zone is.
2. General admission: the same buyers POST `/events/<id>/book` with quantity SEATED_GA_QUANTITY
   (default 2, so the same number of holds (bookings) as pairs of seats in phase 1) until sold
   out, with bench/rush.lua exactly as bench/rush.py runs it.
3. Hand-pick (aiohttp: the pages must be read): the same buyers (fresh client sessions with the
   same cookies) on the second seated event loop for SEATED_PICK_SECONDS (default 20) or until
   the front section has no two free seats together: GET `/events/<id>/seats?section=0` (the
   front section: a venue over 1,000 seats is shown a section at a time), read the free seats
   (`<label class="seat free ...">` ... `<input ... value="<unit id>">`; where they are comes
   from the database, loaded once), pick two adjacent free seats of one zone, as near to the
   front and then to the middle as possible, at random among the best SEATED_PICK_SPREAD
   (default 6) pairs so that buyers do not all pick the same one, and POST `/events/<id>/seats`
   (csrf_token, seat, seat, section=0, with `HX-Request: true`). A hold is a 204 with
   HX-Redirect (or a 303) to a booking. A 409 that carries an offer (`<form class="seat-offer">`:
   the nearest seats together, or "hold anyway" after a single-seat warning, `on its own`) is
   accepted once by posting that form's fields; a 409 without one sends the buyer back to the
   map.

Figures (last line), each a median over SEATED_RUNS runs (counts: the worst run):
- best_holds_per_s, ga_holds_per_s: holds of phase 1 / phase 2 divided by the time from
  wrk's start to the last hold's `created_at` (the app's clock at the request), as rush.py
  measures; ratio = best / ga (1.0: best available is as fast as general admission).
- best_p99_ms: wrk's p99 latency in phase 1 (every answer, with wrk's correction for
  coordinated omission).
- pick_holds_per_s: holds of phase 3 (from the database, offers accepted included) divided by
  the time from the phase's start to the last hold's `created_at`.
- map_p50_ms: median time of the phase-3 map GETs (the whole front-section page).
- false_sold_out: phase-1 refusals (either kind: the buyer gives up the zone either way) that
  the database contradicts. A refusal is false when a booking of its zone has a `created_at`
  later than the wall clock at which wrk read the refusal (that request began after the answer
  arrived, and nothing is released during the bench: holds last 10 minutes, nobody cancels,
  so those seats were free when the refusal was computed), or when at the end of the phase the
  zone still has two free seats together (every refusal of that zone was then false). Bookings
  whose request began before the refusal arrived are not counted, so this is a lower bound.
- split_pairs: phase-1 bookings whose seats are not side by side (all in one section and row,
  `grid_x` consecutive).
- isolated_at_90pct: phase 1's bookings replayed in `created_at` order up to the one that sells
  90% of the venue's seats; then the free seats with no free neighbour (`grid_x` +- 1 in the same
  section, row and zone). If the phase sold less than 90%, the end of the phase counts.
- double_sold, over the three events: seats listed by two live booking lines, live bookings
  promised more units than they own, units owned by another event's booking, and units behind
  two live tickets.

Each phase also prints its answers (statuses, refusal kinds), holds counted by the client
against the database (bookings and units linked), and where the CPU went (bench.load.CpuMeter).
Knobs: SEATED_RUNS, SEATED_BUYERS, SEATED_SECTIONS, SEATED_ROWS, SEATED_SEATS,
SEATED_FRONT_ROWS, SEATED_QUANTITY, SEATED_GA_QUANTITY, SEATED_PICK_SECONDS, SEATED_PICK_SPREAD,
SEATED_WRK_THREADS (default 1; with more, each wrk thread closes a zone on its own refusal),
BENCH_WEB_WORKERS / BENCH_WEB_THREADS, DB_POOL_SIZE (per web worker, bench/server.py: 8).
When the web log has errors, the run ends by printing how many and the last one.

Last line:
seated: best_holds_per_s=<n> ga_holds_per_s=<n> ratio=<best/ga> best_p99_ms=<n>
        pick_holds_per_s=<n> map_p50_ms=<n> false_sold_out=<n> split_pairs=<n>
        isolated_at_90pct=<n> double_sold=<n>
"""

from __future__ import annotations

import asyncio
import html
import math
import os
import random
import re
import shutil
import subprocess
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urljoin

import aiohttp
from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session
from yarl import URL

from app.domain.base import utcnow
from app.domain.ticketing.models import TierKind, Unit
from app.domain.ticketing.seatmap import SeatAction, change_seats, replace_layout
from app.domain.ticketing.tiers import TierData, create_tier
from app.web.csrf_token import csrf_token_from
from bench.load import (
    CpuMeter,
    HotEvent,
    close_all,
    cookie_jar,
    create_hot_event,
    create_published_event,
    logged_in_buyers,
    median,
    percentile_ms,
)
from bench.rush import WRK_TIMEOUT_SECONDS, profile_web_worker
from bench.server import BenchSite

BUYERS = int(os.environ.get("SEATED_BUYERS", "200"))
RUNS = int(os.environ.get("SEATED_RUNS", "1"))
SECTIONS = int(os.environ.get("SEATED_SECTIONS", "3"))
ROWS = int(os.environ.get("SEATED_ROWS", "25"))
SEATS = int(os.environ.get("SEATED_SEATS", "40"))
FRONT_ROWS = int(os.environ.get("SEATED_FRONT_ROWS", "10"))
QUANTITY = int(os.environ.get("SEATED_QUANTITY", "2"))
GA_QUANTITY = int(os.environ.get("SEATED_GA_QUANTITY", "2"))
PICK_SECONDS = float(os.environ.get("SEATED_PICK_SECONDS", "20"))
PROFILE = os.environ.get("SEATED_PROFILE", "")  # py-spy profile of one web worker, hand-pick
PICK_SPREAD = int(os.environ.get("SEATED_PICK_SPREAD", "6"))
WRK_THREADS = int(os.environ.get("SEATED_WRK_THREADS", "1"))
PER_USER_LIMIT = 1000  # never reached: every claim still locks and counts
WRK_MAX_SECONDS = 300  # an upper bound: the Lua scripts end their phase themselves
LIVE = "b.status IN ('pending', 'confirmed')"
# (name, price in minor units); zone names head their refusals ("Front is sold out."), so
# they must be single words.
FRONT = ("Front", 6000)
BACK = ("Back", 4000)
BENCH_DIR = Path(__file__).parent


@dataclass(frozen=True)
class Zone:
    name: str
    tier_id: int
    seats: int


@dataclass(frozen=True)
class SeatedEvent:
    event_id: int
    zones: tuple[Zone, ...]

    @property
    def seats(self) -> int:
        return sum(zone.seats for zone in self.zones)


@dataclass(frozen=True)
class Buyer:
    cookies: dict[str, str]  # name -> value, for aiohttp
    cookie_header: str  # for wrk
    token: str  # the session's CSRF token


@dataclass(frozen=True)
class Seat:
    id: int
    section: str
    row: str
    x: int
    y: int
    tier_id: int | None
    booking_id: int | None


# -- the venue ---------------------------------------------------------------------------------


def layout_text() -> str:
    lines = []
    for section in range(1, SECTIONS + 1):
        lines.append(f"Section S{section}")
        lines += [f"Row {row}: 1-{SEATS}" for row in range(1, ROWS + 1)]
    return "\n".join(lines)


def arena_layout() -> str:
    """The layout limit: 20 sections x 25 rows x 40 seats = 20,000 seats."""
    rows = "\n".join(f"Row {row}: 1-40" for row in range(1, 26))
    return "\n".join(f"Section A{section}\n{rows}" for section in range(1, 21))


def create_seated_event(session: Session, *, title: str, layout: str | None = None) -> SeatedEvent:
    """A published seated event: the layout, Front rows and Back rows, through the services."""
    event = create_published_event(session, title=title)
    now = utcnow()
    tiers = [
        create_tier(
            session,
            event=event,
            data=TierData(
                name=name,
                kind=TierKind.PAID,
                price_minor=price_minor,
                currency="EUR",
                capacity=0,  # a seated tier has as many units as its zone has seats
                max_per_order=10,
                per_user_limit=PER_USER_LIMIT,
                position=position,
            ),
            actor_id=event.organizer_id,
            now=now,
        )
        for position, (name, price_minor) in enumerate((FRONT, BACK))
    ]
    front, back = tiers
    replace_layout(
        session,
        event=event,
        text=layout or layout_text(),
        new_seat_tier=front,
        actor_id=None,
        now=now,
    )
    back_rows = session.scalars(
        select(func.min(Unit.id))
        .where(Unit.event_id == event.id, cast(Unit.row_label, Integer) > FRONT_ROWS)
        .group_by(Unit.section, Unit.row_label)
    ).all()
    if back_rows:
        change_seats(
            session,
            event=event,
            action=SeatAction.ZONE,
            row_seat_ids=back_rows,
            tier=back,
            actor_id=None,
            now=now,
        )
    session.flush()
    assert event.is_seated
    counts = dict(
        session.execute(
            select(Unit.tier_id, func.count())
            .where(Unit.event_id == event.id)
            .group_by(Unit.tier_id)
        ).all()
    )
    zones = tuple(Zone(t.name, t.id, counts[t.id]) for t in tiers if counts.get(t.id))
    return SeatedEvent(event.id, zones)


def load_seats(site: BenchSite, event_id: int) -> dict[int, Seat]:
    rows = site.sql(
        "SELECT id, coalesce(section, ''), row_label, grid_x, grid_y, tier_id, booking_id"
        " FROM units WHERE event_id = :e AND seat_number IS NOT NULL",
        e=event_id,
    )
    return {row[0]: Seat(*row) for row in rows}


# -- buyers ------------------------------------------------------------------------------------


async def log_in_all(site: BenchSite, emails: list[str], page: str) -> list[Buyer]:
    """Each buyer logs in and opens `page` for its session's CSRF token (any form's token
    serves every form of the session), 16 at a time."""
    sessions = await logged_in_buyers(site, emails)
    base = URL(site.base_url)
    gate = asyncio.Semaphore(16)

    async def credentials(http: aiohttp.ClientSession) -> Buyer:
        async with gate, http.get(site.base_url + page) as response:
            token = csrf_token_from(await response.text())
        jar = http.cookie_jar.filter_cookies(base)
        header = "; ".join(f"{name}={morsel.coded_value}" for name, morsel in jar.items())
        return Buyer({name: morsel.value for name, morsel in jar.items()}, header, token)

    try:
        return list(await asyncio.gather(*(credentials(http) for http in sessions)))
    finally:
        await close_all(sessions)


# -- phases 1 and 2: wrk -----------------------------------------------------------------------


@dataclass
class WrkPhase:
    started_at: float  # wall clock (Unix time) when wrk started
    statuses: str
    errors: str
    p50_ms: float
    p99_ms: float
    refusals: str = ""
    refusal_log: list[tuple[str, str, float]] = field(default_factory=list)
    cpu: CpuMeter | None = None

    def holds(self) -> int:
        counts = dict(part.split(":") for part in self.statuses.split(",") if part)
        return int(counts.get("303", 0)) + int(counts.get("204", 0))


def run_wrk(
    site: BenchSite, script: str, path: str, args: list[str]
) -> tuple[str, float, CpuMeter]:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is missing: `make bench-seated` installs it (apt-get install wrk)")
    command = [
        wrk,
        f"--threads={WRK_THREADS}",
        f"--connections={BUYERS}",
        f"--duration={WRK_MAX_SECONDS}s",
        f"--timeout={WRK_TIMEOUT_SECONDS}s",
        f"--script={BENCH_DIR / script}",
        site.base_url + path,
        "--",
        *args,
    ]
    with CpuMeter(site) as cpu:
        started_at = time.time()
        out = subprocess.run(command, capture_output=True, text=True, check=False)
    if out.returncode:
        raise RuntimeError(f"wrk failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout, started_at, cpu


def best_available(site: BenchSite, event: SeatedEvent, buyers: list[Buyer]) -> WrkPhase:
    lines = []
    for buyer in buyers:
        forms = [
            urlencode({"csrf_token": buyer.token, "quantity": QUANTITY, "tier_id": zone.tier_id})
            for zone in event.zones
        ]
        lines.append("\t".join([buyer.cookie_header, *forms]))
    buyers_file = site.tmp / "seated-buyers.tsv"
    buyers_file.write_text("\n".join(lines) + "\n")
    names = ",".join(zone.name for zone in event.zones)
    stdout, started_at, cpu = run_wrk(
        site,
        "seated.lua",
        f"/events/{event.event_id}/seats/best",
        [str(buyers_file), str(WRK_THREADS), names],
    )
    match = re.search(
        r"^seated-wrk: p50_us=(\d+) p99_us=(\d+) statuses=(\S*) errors=(\S*) refusals=(\S*)$",
        stdout,
        re.M,
    )
    if not match:
        raise RuntimeError(f"wrk (seated.lua) printed no summary:\n{stdout}")
    p50_us, p99_us, statuses, errors, refusals = match.groups()
    log = [
        (zone, kind, float(at))
        for zone, kind, at in re.findall(r"^seated-refusal: (\S+) (\S+) ([\d.]+)$", stdout, re.M)
    ]
    return WrkPhase(
        started_at, statuses, errors, int(p50_us) / 1000, int(p99_us) / 1000, refusals, log, cpu
    )


def general_admission(site: BenchSite, hot: HotEvent, buyers: list[Buyer]) -> WrkPhase:
    """bench/rush.lua on the general-admission event, as bench/rush.py runs it."""
    lines = [
        buyer.cookie_header
        + "\t"
        + urlencode({"csrf_token": buyer.token, "tier_id": hot.tier_id, "quantity": GA_QUANTITY})
        for buyer in buyers
    ]
    buyers_file = site.tmp / "ga-buyers.tsv"
    buyers_file.write_text("\n".join(lines) + "\n")
    stdout, started_at, cpu = run_wrk(
        site, "rush.lua", f"/events/{hot.event_id}/book", [str(buyers_file), str(WRK_THREADS)]
    )
    match = re.search(
        r"^rush-wrk: p50_us=(\d+) p99_us=(\d+) statuses=(\S*) errors=(\S*)$", stdout, re.M
    )
    if not match:
        raise RuntimeError(f"wrk (rush.lua) printed no summary:\n{stdout}")
    p50_us, p99_us, statuses, errors = match.groups()
    return WrkPhase(started_at, statuses, errors, int(p50_us) / 1000, int(p99_us) / 1000, cpu=cpu)


# -- phase 3: hand-picked seats (aiohttp) ------------------------------------------------------

SEAT_INPUT = re.compile(
    r'<label\b[^>]*?\bclass="seat\s+([\w-]+)[^"]*"[^>]*>\s*<input\b[^>]*?\bvalue="(\d+)"', re.S
)
OFFER_FORM = re.compile(r'(<form\b[^>]*class="[^"]*\bseat-offer\b[^"]*"[^>]*>)(.*?)</form>', re.S)
FORM_FIELD = re.compile(r"<(input|button)\b[^>]*>", re.S)
ATTRIBUTE = re.compile(r'([\w:-]+)\s*=\s*"([^"]*)"')


@dataclass
class Picking:
    started_at: float = 0.0  # wall clock (Unix time)
    ended_at: float = 0.0
    map_seconds: list[float] = field(default_factory=list)
    answers: Counter = field(default_factory=Counter)
    client_holds: int = 0
    cpu: CpuMeter | None = None


def free_seats(page: str) -> list[int]:
    return [int(unit) for state, unit in SEAT_INPUT.findall(page) if state == "free"]


def choose_pair(
    free: list[int], seats: dict[int, Seat], centres: dict[str, float], rng: random.Random
) -> list[int] | None:
    """Two adjacent free seats of one zone, nearest the front, then the middle; at random
    among the best PICK_SPREAD pairs. Like a buyer whose page (static/js/seatmap.js) warns
    that a pair would leave a seat alone, pairs that would are taken only when no other is
    left."""
    places = {(s.section, s.row, s.x): s for s in (seats[i] for i in free if i in seats)}

    def lone(section: str, row: str, x: int, away: int, tier_id: int) -> bool:
        """Would the free seat at x (beside the pair) be left alone?"""
        seat = places.get((section, row, x))
        beyond = places.get((section, row, x + away))
        return (
            seat is not None
            and seat.tier_id == tier_id
            and (beyond is None or beyond.tier_id != tier_id)
        )

    pairs = []
    for (section, row, x), seat in places.items():
        right = places.get((section, row, x + 1))
        if right is not None and right.tier_id == seat.tier_id:
            strands = lone(section, row, x - 1, -1, seat.tier_id) or lone(
                section, row, x + 2, 1, seat.tier_id
            )
            key = (strands, seat.y, abs(x + 0.5 - centres[section]), seat.id)
            pairs.append((key, right.id))
    if not pairs:
        return None
    pairs.sort()
    (_, _, _, left), right = rng.choice(pairs[:PICK_SPREAD])
    return [left, right]


def offer_fields(page: str) -> tuple[str | None, list[tuple[str, str]]] | None:
    """The first seat-offer form of a refusal: (its action, its fields), or None."""
    match = OFFER_FORM.search(page)
    if match is None:
        return None
    action = dict(ATTRIBUTE.findall(match.group(1))).get("action")
    fields: list[tuple[str, str]] = []
    submitter = False
    for tag, attrs in ((m.group(1), m.group(0)) for m in FORM_FIELD.finditer(match.group(2))):
        attr = {k.lower(): html.unescape(v) for k, v in ATTRIBUTE.findall(attrs)}
        name = attr.get("name")
        if not name:
            continue
        if tag == "button" or attr.get("type") == "submit":
            if submitter:
                continue
            submitter = True
        elif attr.get("type") in ("checkbox", "radio") and "checked" not in attrs:
            continue
        fields.append((name, attr.get("value", "")))
    return (html.unescape(action) if action else None), fields


def is_hold(response: aiohttp.ClientResponse) -> bool:
    target = response.headers.get("HX-Redirect") or response.headers.get("Location") or ""
    return response.status in (204, 302, 303) and "/bookings/" in target


async def picker(
    http: aiohttp.ClientSession,
    site: BenchSite,
    event: SeatedEvent,
    seats: dict[int, Seat],
    centres: dict[str, float],
    deadline: float,
    picking: Picking,
    rng: random.Random,
) -> None:
    """One buyer: map, pick, hold (or accept the offer once), until the deadline or until the
    map shows no pair. A client timeout or a dropped connection counts and the buyer goes on."""
    while time.monotonic() < deadline:
        try:
            if not await pick_once(http, site, event, seats, centres, picking, rng):
                return
        except (TimeoutError, aiohttp.ClientError) as error:
            picking.answers[f"client {type(error).__name__}"] += 1


async def pick_once(
    http: aiohttp.ClientSession,
    site: BenchSite,
    event: SeatedEvent,
    seats: dict[int, Seat],
    centres: dict[str, float],
    picking: Picking,
    rng: random.Random,
) -> bool:
    """One round of a buyer; False when the map has no two free seats together."""
    map_url = f"{site.base_url}/events/{event.event_id}/seats?section=0"
    hold_url = f"{site.base_url}/events/{event.event_id}/seats"
    htmx = {"HX-Request": "true"}
    began = time.perf_counter()
    try:
        async with http.get(map_url) as response:
            page = await response.text()
    finally:  # a map that timed out took at least that long
        picking.map_seconds.append(time.perf_counter() - began)
    if response.status != 200:
        picking.answers[f"map {response.status}"] += 1
        await asyncio.sleep(0.1)
        return True
    pair = choose_pair(free_seats(page), seats, centres, rng)
    if pair is None:
        picking.answers["no pair left"] += 1
        return False
    form = [("csrf_token", csrf_token_from(page)), *(("seat", str(s)) for s in pair)]
    form.append(("section", "0"))
    async with http.post(hold_url, data=form, headers=htmx, allow_redirects=False) as answer:
        body = await answer.text()
    if is_hold(answer):
        picking.answers["held"] += 1
        picking.client_holds += 1
        return True
    offer = offer_fields(body) if answer.status == 409 else None
    if offer is None:
        picking.answers[f"refused {answer.status} without offer"] += 1
        return True  # back to the map
    kind = "single-seat warning" if "on its own" in body else "taken, offer"
    action, fields = offer
    if not any(name == "csrf_token" for name, _ in fields):
        fields.insert(0, ("csrf_token", csrf_token_from(page)))
    url = urljoin(hold_url, action) if action else hold_url
    async with http.post(url, data=fields, headers=htmx, allow_redirects=False) as answer:
        await answer.read()
    if is_hold(answer):
        picking.answers[f"{kind}: accepted, held"] += 1
        picking.client_holds += 1
    else:
        picking.answers[f"{kind}: accepted, refused {answer.status}"] += 1
    return True


async def hand_pick(site: BenchSite, event: SeatedEvent, buyers: list[Buyer]) -> Picking:
    seats = load_seats(site, event.event_id)
    by_section: dict[str, list[int]] = defaultdict(list)
    for seat in seats.values():
        by_section[seat.section].append(seat.x)
    centres = {section: (min(xs) + max(xs)) / 2 for section, xs in by_section.items()}
    base = URL(site.base_url)
    sessions = []
    for buyer in buyers:
        jar = cookie_jar(site)
        jar.update_cookies(buyer.cookies, base)
        sessions.append(
            aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=1),
                cookie_jar=jar,
                timeout=aiohttp.ClientTimeout(total=60),
            )
        )
    picking = Picking()
    if PROFILE:
        profile_web_worker(site, PROFILE)
    try:
        with CpuMeter(site) as cpu:
            picking.started_at = time.time()
            deadline = time.monotonic() + PICK_SECONDS
            await asyncio.gather(
                *(
                    picker(http, site, event, seats, centres, deadline, picking, random.Random(n))
                    for n, http in enumerate(sessions)
                )
            )
            picking.ended_at = time.time()
        picking.cpu = cpu
    finally:
        await close_all(sessions)
    return picking


async def arena_pages(site: BenchSite, arena: SeatedEvent, buyer: Buyer) -> str:
    """Every page of the arena, one at a time on a quiet site: the overview, then each part
    three times: first rendered, then served from the shared rendering, then rendered again
    after a hold changed the venue (with its seat rows rendered before). Times are the
    client's on loopback (about the server's time) and medians over the parts."""
    base = URL(site.base_url)
    jar = cookie_jar(site)
    jar.update_cookies(buyer.cookies, base)
    pages = f"{site.base_url}/events/{arena.event_id}/seats"
    front = arena.zones[0]
    timings: dict[str, list[float]] = defaultdict(list)
    sizes: list[int] = []
    async with aiohttp.ClientSession(cookie_jar=jar) as http:

        async def get(url: str, kind: str) -> str:
            began = time.perf_counter()
            async with http.get(url) as response:
                body = await response.read()
            timings[kind].append(time.perf_counter() - began)
            sizes.append(len(body))
            return body.decode()

        overview = await get(pages, "overview")
        parts = len(re.findall(r'class="part-free"', overview))
        for part in range(parts):
            await get(f"{pages}?section={part}", "first")
            page = await get(f"{pages}?section={part}", "cached")
            form = {"csrf_token": csrf_token_from(page), "quantity": "2", "tier_id": front.tier_id}
            async with http.post(f"{pages}/best", data=form, allow_redirects=False) as answer:
                await answer.read()
            await asyncio.sleep(0.3)  # the hold's NOTIFY reaches the process (coalesced)
            await get(f"{pages}?section={part}", "changed")
    ms = {kind: percentile_ms(values, 50) for kind, values in timings.items()}
    return (
        f"arena: seats={arena.seats} parts={parts} overview_kb={sizes[0] / 1024:.0f}"
        f" largest_page_kb={max(sizes) / 1024:.0f} overview_ms={ms['overview']:.0f}"
        f" part_first_ms={ms['first']:.0f} part_cached_ms={ms['cached']:.0f}"
        f" part_after_change_ms={ms['changed']:.0f}"
        f" part_after_change_max_ms={max(timings['changed']) * 1000:.0f}"
    )


# -- the audit ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sales:
    """An event's live bookings: when each was made, its tier and its seats."""

    made_at: dict[int, float]  # booking id -> created_at (Unix time)
    tier_of: dict[int, int]
    seats: dict[int, Seat]  # every seat of the event, as it is now

    @property
    def last_at(self) -> float:
        return max(self.made_at.values(), default=0.0)

    def seats_of(self) -> dict[int, list[Seat]]:
        owned: dict[int, list[Seat]] = defaultdict(list)
        for seat in self.seats.values():
            if seat.booking_id in self.made_at:
                owned[seat.booking_id].append(seat)
        return owned


def sales(site: BenchSite, event_id: int) -> Sales:
    rows = site.sql(
        "SELECT b.id, extract(epoch FROM b.created_at)::float8, min(l.tier_id)"
        " FROM bookings b JOIN booking_lines l ON l.booking_id = b.id"
        f" WHERE b.event_id = :e AND {LIVE}"
        " GROUP BY b.id",
        e=event_id,
    )
    return Sales(
        {b: at for b, at, _ in rows}, {b: tier for b, _, tier in rows}, load_seats(site, event_id)
    )


def rate(holds: int, started_at: float, last_at: float) -> float:
    elapsed = last_at - started_at
    return holds / elapsed if holds and elapsed > 0 else 0.0


def free_pair_left(seats: dict[int, Seat], tier_id: int) -> bool:
    free = {
        (s.section, s.row, s.x)
        for s in seats.values()
        if s.tier_id == tier_id and s.booking_id is None
    }
    return any((section, row, x + 1) in free for section, row, x in free)


def false_refusals(phase: WrkPhase, event: SeatedEvent, sold: Sales) -> Counter:
    """Refusals the database contradicts (see the module's docstring), by zone and kind."""
    tier = {zone.name: zone.tier_id for zone in event.zones}
    last_at: dict[int, float] = defaultdict(float)
    for booking, made_at in sold.made_at.items():
        last_at[sold.tier_of[booking]] = max(last_at[sold.tier_of[booking]], made_at)
    pair_left = {tier_id: free_pair_left(sold.seats, tier_id) for tier_id in tier.values()}
    found: Counter = Counter()
    for zone, kind, at in phase.refusal_log:
        if pair_left[tier[zone]] or last_at[tier[zone]] > at:
            found[f"{zone}/{kind}"] += 1
    return found


def split_bookings(sold: Sales) -> int:
    """Bookings whose seats are not side by side in one row."""
    split = 0
    for owned in sold.seats_of().values():
        xs = sorted(seat.x for seat in owned)
        one_row = len({(seat.section, seat.row) for seat in owned}) == 1
        if not one_row or xs != list(range(xs[0], xs[0] + len(xs))):
            split += 1
    return split


def isolated_seats(sold: Sales, share: float = 0.9) -> tuple[int, int, bool]:
    """Replay the sales in `created_at` order up to `share` of the seats sold: (free seats with
    no free neighbour then, seats sold then, whether `share` was reached)."""
    owned = sold.seats_of()
    target = math.ceil(share * len(sold.seats))
    taken: set[int] = set()
    for booking in sorted(sold.made_at, key=lambda b: (sold.made_at[b], b)):
        taken.update(seat.id for seat in owned[booking])
        if len(taken) >= target:
            break
    free = {(s.section, s.row, s.tier_id, s.x) for s in sold.seats.values() if s.id not in taken}
    alone = sum(
        1
        for section, row, tier_id, x in free
        if (section, row, tier_id, x - 1) not in free and (section, row, tier_id, x + 1) not in free
    )
    return alone, len(taken), len(taken) >= target


def double_sold(site: BenchSite, event_ids: list[int]) -> dict[str, int]:
    """The ways a seat or unit can be sold twice, counted over `event_ids`."""
    (seat_in_two_lines,) = site.sql(
        "SELECT count(*) FROM (SELECT s FROM booking_lines l"
        " JOIN bookings b ON b.id = l.booking_id,"
        f" unnest(l.seat_ids) s WHERE b.event_id = ANY(:events) AND {LIVE}"
        " GROUP BY s HAVING count(*) > 1) t",
        events=event_ids,
    )[0]
    (short,) = site.sql(
        "SELECT coalesce(sum(greatest(0, promised - owned)), 0) FROM ("
        " SELECT b.id, (SELECT sum(quantity) FROM booking_lines WHERE booking_id = b.id) promised,"
        " (SELECT count(*) FROM units WHERE booking_id = b.id) owned"
        f" FROM bookings b WHERE b.event_id = ANY(:events) AND {LIVE}) t",
        events=event_ids,
    )[0]
    (foreign,) = site.sql(
        "SELECT count(*) FROM units u JOIN bookings b ON b.id = u.booking_id"
        " WHERE u.event_id = ANY(:events) AND b.event_id <> u.event_id",
        events=event_ids,
    )[0]
    (twice_ticketed,) = site.sql(
        "SELECT count(*) FROM (SELECT unit_id FROM tickets WHERE status <> 'void'"
        " GROUP BY unit_id HAVING count(*) > 1) t"
    )[0]
    return {
        "seat_in_two_bookings": seat_in_two_lines,
        "bookings_short_of_units": int(short),
        "units_of_other_event": foreign,
        "units_twice_ticketed": twice_ticketed,
    }


def counted(site: BenchSite, event_id: int) -> tuple[int, int, int]:
    """(live bookings, units they promised, units linked to them) of one event."""
    (bookings, promised) = site.sql(
        "SELECT count(DISTINCT b.id), coalesce(sum(l.quantity), 0) FROM bookings b"
        f" JOIN booking_lines l ON l.booking_id = b.id WHERE b.event_id = :e AND {LIVE}",
        e=event_id,
    )[0]
    (linked,) = site.sql(
        "SELECT count(*) FROM units u JOIN bookings b ON b.id = u.booking_id"
        f" WHERE b.event_id = :e AND {LIVE}",
        e=event_id,
    )[0]
    return bookings, int(promised), linked


# -- one run -----------------------------------------------------------------------------------


def one_run() -> dict[str, float]:
    with BenchSite(
        web_workers=int(os.environ.get("BENCH_WEB_WORKERS", "0")),
        web_threads=int(os.environ.get("BENCH_WEB_THREADS", "0")),
    ) as site:
        try:
            return measured_run(site)
        except BaseException:
            for log in ("web.log", "worker.log"):
                path = site.tmp / log
                if path.exists():
                    print(f"--- end of {log} ---\n{path.read_text()[-6000:]}", flush=True)
            raise


def report_web_errors(site: BenchSite) -> None:
    """The web log's errors, if any: how many, and the last one in full."""
    lines = (site.tmp / "web.log").read_text(errors="replace").splitlines()
    errors = [n for n, line in enumerate(lines) if " ERROR " in line]
    if not errors:
        return
    last = lines[errors[-1] :]
    # Up to the next log line (gunicorn's "[2026-...", the app's "2026-...").
    end = next((n for n, line in enumerate(last[1:], 1) if re.match(r"\[?\d{4}-", line)), None)
    print(f"web log: {len(errors)} errors; the last one:", flush=True)
    print("\n".join(last[:end][:80]), flush=True)


def measured_run(site: BenchSite) -> dict[str, float]:
    best = site.seed(lambda s: create_seated_event(s, title="Best available"))
    picked = site.seed(lambda s: create_seated_event(s, title="Hand-picked"))
    hot = site.seed(
        lambda s: create_hot_event(
            s, capacity=best.seats, price_minor=FRONT[1], per_user_limit=PER_USER_LIMIT
        )
    )
    emails = site.create_buyers(BUYERS)
    site.start_web()
    buyers = asyncio.run(log_in_all(site, emails, f"/events/{hot.event_id}/tickets"))
    zones = " ".join(f"{z.name}={z.seats}" for z in best.zones)
    print(
        f"venue: {SECTIONS} sections x {ROWS} rows x {SEATS} seats = {best.seats} ({zones});"
        f" buyers={BUYERS} quantity={QUANTITY} ga_quantity={GA_QUANTITY}",
        flush=True,
    )

    # 1. Best available.
    phase1 = best_available(site, best, buyers)
    sold1 = sales(site, best.event_id)
    best_rate = rate(len(sold1.made_at), phase1.started_at, sold1.last_at)
    false = false_refusals(phase1, best, sold1)
    split = split_bookings(sold1)
    alone, sold_then, reached = isolated_seats(sold1)
    bookings, promised, linked = counted(site, best.event_id)
    left = best.seats - linked
    print(
        f"best available: holds={bookings} in {sold1.last_at - phase1.started_at:.1f}s"
        f" ({best_rate:.0f}/s) client_holds={phase1.holds()} units promised={promised}"
        f" linked={linked} seats_left={left} statuses={phase1.statuses} errors={phase1.errors}"
        f" refusals={phase1.refusals or '-'} false={dict(false)} split_pairs={split}"
        f" isolated={alone} at {sold_then}/{best.seats} sold"
        f"{'' if reached else ' (90% never reached: end of phase)'}"
        f" p50={phase1.p50_ms:.0f}ms p99={phase1.p99_ms:.0f}ms",
        flush=True,
    )
    closed = {zone for zone, _, _ in phase1.refusal_log}
    if closed != {zone.name for zone in best.zones}:
        print(f"  warning: only {sorted(closed)} closed: wrk's time limit ended the phase")
    print(f"  {phase1.cpu.line()}", flush=True)

    # 2. General admission.
    phase2 = general_admission(site, hot, buyers)
    sold2 = sales(site, hot.event_id)
    ga_rate = rate(len(sold2.made_at), phase2.started_at, sold2.last_at)
    bookings, promised, linked = counted(site, hot.event_id)
    print(
        f"general admission: holds={bookings} in {sold2.last_at - phase2.started_at:.1f}s"
        f" ({ga_rate:.0f}/s) client_holds={phase2.holds()} units promised={promised}"
        f" linked={linked} of {hot.capacity} statuses={phase2.statuses} errors={phase2.errors}"
        f" p50={phase2.p50_ms:.0f}ms p99={phase2.p99_ms:.0f}ms",
        flush=True,
    )
    print(f"  {phase2.cpu.line()}", flush=True)

    # 3. Hand-picked seats.
    phase3 = asyncio.run(hand_pick(site, picked, buyers))
    sold3 = sales(site, picked.event_id)
    pick_rate = rate(len(sold3.made_at), phase3.started_at, sold3.last_at)
    bookings, promised, linked = counted(site, picked.event_id)
    map_p50 = percentile_ms(phase3.map_seconds, 50)
    print(
        f"hand-picked: holds={bookings} in {sold3.last_at - phase3.started_at:.1f}s"
        f" ({pick_rate:.0f}/s) client_holds={phase3.client_holds} units promised={promised}"
        f" linked={linked} answers={dict(phase3.answers)} split={split_bookings(sold3)}"
        f" map_gets={len(phase3.map_seconds)} map p50={map_p50:.0f}ms"
        f" p99={percentile_ms(phase3.map_seconds, 99):.0f}ms",
        flush=True,
    )
    print(f"  {phase3.cpu.line()}", flush=True)

    # 4. A 20,000-seat arena, shown a part at a time (quiet machine: server times).
    arena = site.seed(lambda s: create_seated_event(s, title="Arena", layout=arena_layout()))
    print(asyncio.run(arena_pages(site, arena, buyers[0])), flush=True)

    twice = double_sold(site, [best.event_id, hot.event_id, picked.event_id])
    print(f"double sold: {twice}", flush=True)
    site.stop_web()
    report_web_errors(site)
    return {
        "best_holds_per_s": best_rate,
        "ga_holds_per_s": ga_rate,
        "best_p99_ms": phase1.p99_ms,
        "pick_holds_per_s": pick_rate,
        "map_p50_ms": map_p50,
        "false_sold_out": sum(false.values()),
        "split_pairs": split,
        "isolated_at_90pct": alone,
        "double_sold": sum(twice.values()),
    }


COUNTS = ("false_sold_out", "split_pairs", "isolated_at_90pct", "double_sold")


def main() -> None:
    runs = [one_run() for _ in range(RUNS)]
    pick = {key: median([run[key] for run in runs]) for key in runs[0]}
    pick.update({key: max(run[key] for run in runs) for key in COUNTS})
    ratio = pick["best_holds_per_s"] / pick["ga_holds_per_s"] if pick["ga_holds_per_s"] else 0.0
    if RUNS > 1:
        print(f"median of {RUNS} runs (counts: the worst run)", flush=True)
    print(
        f"seated: best_holds_per_s={pick['best_holds_per_s']:.0f}"
        f" ga_holds_per_s={pick['ga_holds_per_s']:.0f} ratio={ratio:.2f}"
        f" best_p99_ms={pick['best_p99_ms']:.0f} pick_holds_per_s={pick['pick_holds_per_s']:.0f}"
        f" map_p50_ms={pick['map_p50_ms']:.0f} false_sold_out={pick['false_sold_out']:.0f}"
        f" split_pairs={pick['split_pairs']:.0f}"
        f" isolated_at_90pct={pick['isolated_at_90pct']:.0f}"
        f" double_sold={pick['double_sold']:.0f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
