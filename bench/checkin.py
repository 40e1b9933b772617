"""`make bench-checkin`: twenty phones scanning the crowd of a 5,000-ticket event at its door.

The site runs as in the other benchmarks (bench/server.py: gunicorn as in production, an
embedded PostgreSQL). Setup, not timed: a published event with one free tier of
CHECKIN_TICKETS (default 5,000) units, sold through the booking service to 1,000 buyers as
confirmed bookings of CHECKIN_TICKETS / 1,000 tickets each; CHECKIN_SCANNERS (default 20) staff
accounts with a grant for the event, each signed in through the login form with its own
aiohttp session (its own cookies and CSRF token), as separate phones would be; every ticket's
QR text, signed with the event's key.

Then, timed: every ticket is scanned once, and CHECKIN_TWICE (default 10%) of them a second time
by another scanner at about the same moment (the second scan sits at the same place in another
phone's queue, so the two meet at the door). A scan is `POST /checkin/<id>/scan` with the
code, the phone's gate and a scan id, `Accept: application/json`. Each scanner works through
its queue one scan after another, waiting half to one and a half times CHECKIN_PAUSE_MS
(default 250) between an answer and its next scan, each phone at its own rhythm: about four
scans a second per phone, already faster than a person can hold up tickets.
CHECKIN_PAUSE_MS=0 is the stress: every phone scans as fast as the site answers, and the
latency is then mostly the wait for the two cores. Latencies are per scan (p50, p95).

Then the answers and the database are checked: every ticket must have exactly one "admitted"
answer and one live check-in; `double_admits` counts the tickets admitted more than once by
the answers or by the database (the larger). Every answer must be 200, and every second scan
"already_checked_in" or the admission (whichever of the two was first).

Knobs: the ones above, BENCH_WEB_WORKERS / BENCH_WEB_THREADS (override gunicorn.conf.py),
CHECKIN_PROFILE=<file> (py-spy profile of one web worker during the scans, as RUSH_PROFILE).

Last line: checkin: scans=<n> p50_ms=<n> p95_ms=<n> double_admits=<n>
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp
from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from app.domain.accounts.models import User
from app.domain.base import utcnow
from app.domain.events.models import Event
from app.domain.ticketing.allocation import hold_units
from app.domain.ticketing.models import Booking, Ticket, TicketTier
from app.domain.tickets.signing import TicketCode, check_code, event_key, sign
from app.web.csrf_token import csrf_token_from
from bench.load import (
    CpuMeter,
    HotEvent,
    close_all,
    create_hot_event,
    logged_in_buyers,
    percentile_ms,
)
from bench.rush import profile_web_worker
from bench.server import BenchSite

TICKETS = int(os.environ.get("CHECKIN_TICKETS", "5000"))
SCANNERS = int(os.environ.get("CHECKIN_SCANNERS", "20"))
TWICE = float(os.environ.get("CHECKIN_TWICE", "0.10"))
PAUSE = int(os.environ.get("CHECKIN_PAUSE_MS", "250")) / 1000
PROFILE = os.environ.get("CHECKIN_PROFILE", "")
BUYERS = 1000
SEED = 12


@dataclass(frozen=True)
class Scan:
    ticket_id: int
    code: str


@dataclass
class Answers:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    results: Counter = field(default_factory=Counter)
    admitted: Counter = field(default_factory=Counter)  # ticket id -> "admitted" answers
    by_result: dict[str, list[float]] = field(default_factory=dict)
    by_scanner: dict[int, list[float]] = field(default_factory=dict)


def sell_to(session: Session, hot: HotEvent, emails: list[str], per_buyer: int) -> list[Scan]:
    """`per_buyer` tickets of the hot event's tier for each of `emails`, as confirmed
    bookings through the booking service, and each ticket's QR text."""
    event = session.get(Event, hot.event_id)
    tier = session.get(TicketTier, hot.tier_id)
    users = session.scalars(select(User).where(User.email.in_(emails)).order_by(User.id))
    for user in users:
        hold_units(
            session,
            user=user,
            event=event,
            tier=tier,
            quantity=per_buyer,
            now=utcnow(),
            hold_minutes=10,
        )
    key = event_key(session, hot.event_id, now=utcnow())
    tickets = session.execute(
        select(Ticket.id, Ticket.secret)
        .join(Booking, Booking.id == Ticket.booking_id)
        .where(Booking.event_id == hot.event_id)
    ).all()
    return [
        Scan(t.id, sign(key, TicketCode(hot.event_id, t.id, check_code(t.secret)))) for t in tickets
    ]


def sell_tickets(site: BenchSite) -> tuple[int, list[Scan]]:
    """The event, its tickets sold as confirmed bookings, and each ticket's QR text."""
    buyers = site.create_buyers(BUYERS, prefix="attendee")
    per_buyer = max(1, TICKETS // BUYERS)

    def seed(session: Session) -> tuple[int, list[Scan]]:
        hot = create_hot_event(session, capacity=TICKETS, price_minor=0, title="The door test")
        return hot.event_id, sell_to(session, hot, buyers, per_buyer)

    return site.seed(seed)


def add_staff(site: BenchSite, event_id: int) -> list[str]:
    emails = site.create_buyers(SCANNERS, prefix="staff")
    with site.database.engine.begin() as conn:
        grant_door(conn, emails, event_id)
    return emails


def grant_door(conn: Connection | Session, emails: list[str], event_id: int) -> None:
    """A check-in grant for the event to each of `emails` (from the event's organizer)."""
    conn.execute(
        text(
            "INSERT INTO staff_grants (organizer_id, user_id, event_id, created_at)"
            " SELECT e.organizer_id, u.id, e.id, now() FROM users u, events e"
            " WHERE u.email = ANY(:emails) AND e.id = :event_id"
        ),
        {"emails": emails, "event_id": event_id},
    )


def queues(scans: list[Scan]) -> list[list[Scan]]:
    """Each scanner's scans: every ticket once, dealt round; TWICE of them also at the same
    place in another scanner's queue."""
    rng = random.Random(SEED)
    order = scans[:]
    rng.shuffle(order)
    dealt: list[list[Scan]] = [order[s::SCANNERS] for s in range(SCANNERS)]
    again = rng.sample(range(len(order)), round(len(order) * TWICE))
    extra: list[list[tuple[int, Scan]]] = [[] for _ in range(SCANNERS)]
    for position in again:
        first, place = position % SCANNERS, position // SCANNERS
        other = (first + rng.randrange(1, SCANNERS)) % SCANNERS
        extra[other].append((place, order[position]))
    for scanner, inserts in enumerate(extra):
        for place, scan in sorted(inserts, key=lambda pair: pair[0], reverse=True):
            dealt[scanner].insert(place, scan)
    return dealt


async def scan_all(
    site: BenchSite, event_id: int, emails: list[str], work: list[list[Scan]]
) -> tuple[Answers, float, CpuMeter]:
    """The scans, timed; the logins before them are not (nor their CPU)."""
    sessions = await logged_in_buyers(site, emails)
    url = f"{site.base_url}/checkin/{event_id}/scan"
    answers = Answers()
    try:
        tokens = []
        for http in sessions:
            async with http.get(f"{site.base_url}/checkin/{event_id}") as page:
                if page.status != 200:
                    raise RuntimeError(f"the door page answered {page.status}")
                tokens.append(csrf_token_from(await page.text()))

        async def scanner(index: int, http: aiohttp.ClientSession) -> None:
            headers = {"Accept": "application/json", "X-CSRFToken": tokens[index]}
            pace = random.Random(index)  # phones are not in step: each starts and waits its own
            if PAUSE:
                await asyncio.sleep(pace.uniform(0, PAUSE))
            for number, scan in enumerate(work[index]):
                form = {
                    "code": scan.code,
                    "gate": f"Gate {index + 1}",
                    "scan_id": f"{index}-{number}",
                }
                started = time.perf_counter()
                async with http.post(url, data=form, headers=headers) as answer:
                    body = await answer.json() if answer.status == 200 else None
                took = time.perf_counter() - started
                answers.latencies.append(took)
                answers.by_scanner.setdefault(index, []).append(took)
                answers.statuses[answer.status] += 1
                if body is not None:
                    answers.results[body["result"]] += 1
                    answers.by_result.setdefault(body["result"], []).append(took)
                    if body["result"] == "admitted":
                        answers.admitted[scan.ticket_id] += 1
                if PAUSE:
                    await asyncio.sleep(pace.uniform(0.5, 1.5) * PAUSE)

        if PROFILE:
            profile_web_worker(site, PROFILE)
        with CpuMeter(site) as cpu:
            started = time.perf_counter()
            await asyncio.gather(*(scanner(i, http) for i, http in enumerate(sessions)))
            wall = time.perf_counter() - started
    finally:
        await close_all(sessions)
    return answers, wall, cpu


def database_double_admits(site: BenchSite, event_id: int) -> tuple[int, int]:
    """(tickets with more than one live check-in, tickets checked in)."""
    (row,) = site.sql(
        "SELECT count(*) FILTER (WHERE n > 1), count(*) FROM"
        " (SELECT ticket_id, count(*) AS n FROM check_ins"
        "  WHERE event_id = :event_id AND undone_at IS NULL GROUP BY ticket_id) c",
        event_id=event_id,
    )
    return row[0], row[1]


def main() -> None:
    with BenchSite(
        web_workers=int(os.environ.get("BENCH_WEB_WORKERS", "0")) or None,
        web_threads=int(os.environ.get("BENCH_WEB_THREADS", "0")) or None,
    ) as site:
        setup = time.perf_counter()
        event_id, scans = sell_tickets(site)
        emails = add_staff(site, event_id)
        work = queues(scans)
        with site.database.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        site.start_web(with_worker=False)
        print(
            f"setup: {len(scans)} tickets, {SCANNERS} scanners, "
            f"{sum(map(len, work))} scans in {time.perf_counter() - setup:.1f}s",
            flush=True,
        )
        answers, wall, cpu = asyncio.run(scan_all(site, event_id, emails, work))
        doubled, checked_in = database_double_admits(site, event_id)
        answered_twice = sum(1 for n in answers.admitted.values() if n > 1)
        never = len(scans) - len(answers.admitted)
        print(cpu.line(), flush=True)
        scans_done = max(1, len(answers.latencies))
        print(
            f"cpu per scan: web {cpu.used['web'] / scans_done * 1000:.2f} ms,"
            f" postgres {cpu.used['postgres'] / scans_done * 1000:.2f} ms",
            flush=True,
        )
        print(
            f"answers: {dict(answers.statuses)} {dict(answers.results)}; "
            f"{len(answers.latencies) / wall:.0f} scans/s over {wall:.1f}s; "
            f"checked in {checked_in}/{len(scans)}, never admitted {never}",
            flush=True,
        )
        for result, latencies in sorted(answers.by_result.items()):
            print(
                f"  {result}: p50 {percentile_ms(latencies, 50):.0f} ms,"
                f" p95 {percentile_ms(latencies, 95):.0f} ms",
                flush=True,
            )
        medians = sorted(percentile_ms(v, 50) for v in answers.by_scanner.values())
        if medians:
            print(f"  scanners' medians: {medians[0]:.0f} to {medians[-1]:.0f} ms", flush=True)
        if answers.statuses.keys() != {200} or never or checked_in != len(scans):
            print("checkin: FAILED (see the answers above)", flush=True)
        print(
            f"checkin: scans={len(answers.latencies)}"
            f" p50_ms={percentile_ms(answers.latencies, 50):.0f}"
            f" p95_ms={percentile_ms(answers.latencies, 95):.0f}"
            f" double_admits={max(doubled, answered_twice)}",
            flush=True,
        )


if __name__ == "__main__":
    main()
