"""`make bench-load` and `make bench-load-fault`: the mixed workload of bench/locustfile.py
(browse, search, book and pay with the demo provider, check in at the door, API clients),
run headless by locust for a fixed time against the production-like site.

The site is the other benchmarks' (bench/server.py: an embedded PostgreSQL, gunicorn as in
production and the worker process), with the demo payment provider on
(`BenchSite(demo_payments=True)`) and the outbox mail backend, which writes every mail sent
as an .eml file. Setup, not timed: accounts in bulk (buyers, door staff, API users, the
attendees of the door's event), then through the domain services: LOAD_EVENTS (default 60)
published events to browse and search, an event on sale with a large paid tier and a scarce
one (LOAD_SCARCE_UNITS, default 40, which sells out during the run), a free event the API
clients book, the door's event with its tickets sold before the run, a check-in grant for the
staff and a personal access token (events:read, bookings:write) for each API user. locust
then runs LOAD_USERS (default 60) users, started LOAD_SPAWN_RATE (default 20) a second, for
LOAD_SECONDS (default 60); a user still in the middle of a task at the end gets 10 s to
finish it.

`rps` is locust's: every request (redirects followed count once) over the run's time;
`p95_ms` the 95th percentile of all requests' latencies; `errors` locust's failures (an
exception, a 4xx or 5xx, or an answer the locustfile refuses).

`--fault` (`make bench-load-fault`): in the middle of the run the worker and one gunicorn
web worker process are killed with SIGKILL, at the same moment. gunicorn's master starts a
new web worker by itself; the worker is started again WORKER_RESTART_S (2 s) later, as a
process supervisor would. Errors are then split by cause: killing a web process cuts the
connections it holds, and nothing else on the site cuts one (gunicorn's master keeps the
listening socket, so a new connection always finds a live worker). A failure whose
connection broke before a whole answer came (closed, reset, or a response cut short; the
locustfile's `cut`) and whose request was under way at the kill, or started on a kept-alive
connection within KILL_WINDOW_S (3 s: the longest think time, 2 s, and 1 s to spare) after
it, is the killed process's. Every other failure counts
in `errors_outside_killed`, whose target is 0. The worker's own death makes no request
fail: its work waits in the database (outbox rows, pgqueuer jobs, notification leases).

After either run the site is left to finish its queued work (at most DRAIN_S, 300 s: a
notification the killed worker had claimed waits out its two-minute lease, a pgqueuer job
it had picked its 30 s heartbeat timeout), then the database and the mails are checked:
- `paid`: bookings whose buyer chose "succeed" on the demo checkout;
- `confirmed`: how many of those are confirmed;
- `mailed_once`: how many of those have exactly one confirmation mail (.eml files with the
  notification's Message-ID); every confirmed booking of the run (the API's free ones and
  the door's too) is counted the same way on the run's line;
- `lost`: paid but not confirmed, plus confirmed but not mailed exactly once;
- overselling: on every tier, live units beyond capacity or a unit behind two tickets.

These machines are shared (2 cores, several benchmarks and test runs at once): rps and p95
move with whatever else runs; the correctness figures must not.

Knobs: the ones above, LOAD_RUNS (the median of several runs; correctness figures are the
worst run's), BENCH_WEB_WORKERS.

Last line: load: rps=<n> p95_ms=<n> errors=<n>
       or: load-fault: rps=<n> p95_ms=<n> errors=<n> errors_outside_killed=<n> paid=<n>
           confirmed=<n> mailed_once=<n> lost=<n>
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from app.config import ROOT, load_config
from app.domain.base import utcnow
from app.domain.events.models import Event
from app.domain.notifications.delivery import message_id
from app.domain.notifications.models import Channel
from app.domain.notifications.queue import notification_key
from app.domain.ticketing.models import TierKind
from app.domain.ticketing.tiers import TierData, create_tier
from app.integrations.payments.base import EventKind
from app.integrations.payments.demo import WEBHOOK_TOPIC
from bench.api_rush import api_tokens
from bench.checkin import grant_door, sell_to
from bench.load import HotEvent, create_hot_event, create_published_event, median
from bench.rush import check_database
from bench.server import BUYER_PASSWORD, BenchSite

USERS = int(os.environ.get("LOAD_USERS", "60"))
SPAWN_RATE = int(os.environ.get("LOAD_SPAWN_RATE", "20"))
SECONDS = int(os.environ.get("LOAD_SECONDS", "60"))
RUNS = int(os.environ.get("LOAD_RUNS", "1"))
EVENTS = int(os.environ.get("LOAD_EVENTS", "60"))
SCARCE_UNITS = int(os.environ.get("LOAD_SCARCE_UNITS", "40"))
BUYERS, STAFF, API_USERS, ATTENDEES, PER_ATTENDEE = 150, 6, 40, 100, 4
LARGE = 100_000
WORKER_RESTART_S = 2.0
KILL_WINDOW_S = 3.0
DRAIN_S = 300.0
STOP_TIMEOUT_S = 10
THEMES = ("jazz", "techno", "opera", "comedy", "poetry", "film", "yoga", "chess", "salsa", "rock")
CITIES = ("Berlin", "Hamburg", "Munich", "Cologne", "Leipzig")
LOCUSTFILE = ROOT / "bench" / "locustfile.py"


@dataclass(frozen=True)
class Accounts:
    """Existing verified accounts, by email, all with `password`."""

    password: str
    buyers: list[str]
    staff: list[str]
    api: list[str]
    attendees: list[str]


def seed_workload(
    session: Session,
    accounts: Accounts,
    *,
    events: int = EVENTS,
    scarce_units: int = SCARCE_UNITS,
    per_attendee: int = PER_ATTENDEE,
) -> dict[str, Any]:
    """The events, tiers, door tickets, grants and tokens of the workload; the locustfile's
    data (bench/locustfile.py reads it from LOAD_DATA)."""
    now = utcnow()
    browse = []
    for n in range(events):
        theme = THEMES[n % len(THEMES)]
        event = create_published_event(
            session,
            title=f"{theme.title()} night {n}",
            slug=f"{theme}-night-{n}",
            starts_in=timedelta(days=3 + n % 90, hours=n % 24),
        )
        event.city = CITIES[n % len(CITIES)]
        tier = TierData(name="Entry", currency="EUR", capacity=200)
        create_tier(session, event=event, data=tier, actor_id=event.organizer_id, now=now)
        browse.append(event.id)
    sale = create_hot_event(session, capacity=LARGE, price_minor=2500, title="The big show")
    sale_event = session.get(Event, sale.event_id)
    front_row = TierData(
        name="Front row",
        kind=TierKind.PAID,
        price_minor=9000,
        currency="EUR",
        capacity=scarce_units,
        position=1,
    )
    scarce = create_tier(
        session, event=sale_event, data=front_row, actor_id=sale_event.organizer_id, now=now
    )
    free = create_hot_event(session, capacity=LARGE, price_minor=0, title="The open day")
    door = create_hot_event(
        session, capacity=len(accounts.attendees) * per_attendee, price_minor=0, title="The door"
    )
    scans = sell_to(session, door, accounts.attendees, per_attendee)
    grant_door(session, accounts.staff, door.event_id)
    tokens = api_tokens(session, accounts.api, scopes=("events:read", "bookings:write"))
    return {
        "password": accounts.password,
        "buyers": accounts.buyers,
        "staff": accounts.staff,
        "api_tokens": tokens,
        "events": [*browse, sale.event_id, free.event_id],
        "searches": [*THEMES, "night", "berlin"],
        "sale": {"event_id": sale.event_id, "tier_id": sale.tier_id, "scarce_tier_id": scarce.id},
        "free": {"event_id": free.event_id, "tier_id": free.tier_id},
        "door": {"event_id": door.event_id, "codes": [scan.code for scan in scans]},
        "tiers": {
            str(sale.tier_id): sale.capacity,
            str(scarce.id): scarce_units,
            str(free.tier_id): free.capacity,
            str(door.tier_id): door.capacity,
        },
    }


def locust_command(
    host: str, csv_prefix: Path, *, users: int, spawn_rate: int, seconds: int
) -> list[str]:
    return [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(spawn_rate),
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        str(STOP_TIMEOUT_S),
        "--host",
        host,
        "--csv",
        str(csv_prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]


def _ms(value: str) -> float:
    return float(value) if value != "N/A" else 0.0


def locust_totals(csv_prefix: Path) -> tuple[dict[str, float], dict[str, tuple[int, float]]]:
    """The aggregated row of locust's stats (requests, failures, requests/s, p95 in ms), and
    each request name's count and p95."""
    with open(f"{csv_prefix}_stats.csv") as handle:
        rows = list(csv.DictReader(handle))
    by_name = {
        f"{row['Type']} {row['Name']}": (int(row["Request Count"]), _ms(row["95%"]))
        for row in rows
        if row["Name"] != "Aggregated"
    }
    for row in rows:
        if row["Name"] == "Aggregated":
            totals = {
                "requests": int(row["Request Count"]),
                "errors": int(row["Failure Count"]),
                "rps": float(row["Requests/s"]),
                "p95_ms": _ms(row["95%"]),
            }
            return totals, by_name
    raise RuntimeError("locust wrote no aggregated statistics")


@dataclass(frozen=True)
class Kill:
    at: float  # Unix time of the SIGKILLs
    web_pid: int
    web_back_s: float  # until gunicorn's master had a new worker process running


def kill_in_the_middle(site: BenchSite, started: float) -> Kill:
    """SIGKILL the worker and one web worker process at the run's half; start the worker again
    WORKER_RESTART_S later (gunicorn's master starts its new web worker by itself)."""
    # A moment of the run, not a condition: the kill comes at half time whatever happens.
    time.sleep(max(0.0, started + SECONDS / 2 - time.time()))
    worker = site.processes[1]
    before = site.web_pids()
    web_pid = before[0]
    at = time.time()
    os.kill(worker.pid, signal.SIGKILL)
    os.kill(web_pid, signal.SIGKILL)
    worker.wait()
    time.sleep(WORKER_RESTART_S)  # a supervisor's restart delay
    site.start_worker(log_name="worker-restarted.log")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        now_running = site.web_pids()
        if web_pid not in now_running and len(now_running) == len(before):
            break
        time.sleep(0.1)
    else:
        raise RuntimeError("gunicorn did not replace the killed web worker within 60 s")
    return Kill(at=at, web_pid=web_pid, web_back_s=time.time() - at)


def attribute(failures: list[dict[str, Any]], kill: Kill | None) -> tuple[int, int]:
    """(failures of the killed web process's connections, the others); see the module's
    docstring for the rule."""
    if kill is None:
        return 0, len(failures)
    killed = sum(
        1
        for failure in failures
        if failure["cut"]
        and failure["start"] <= kill.at + KILL_WINDOW_S
        and failure["start"] + failure["seconds"] >= kill.at
    )
    return killed, len(failures) - killed


def drain(site: BenchSite) -> tuple[float, str]:
    """Wait until the demo webhooks are delivered and the confirmations sent: the seconds
    taken, and what was left when the load ended."""
    began = time.monotonic()
    left_at_end = ""
    while time.monotonic() - began < DRAIN_S:
        ((webhooks, retried, mails, due_later),) = site.sql(
            "SELECT (SELECT count(*) FROM outbox WHERE processed_at IS NULL AND topic = :topic),"
            " (SELECT count(*) FROM outbox WHERE processed_at IS NULL AND topic = :topic"
            "  AND attempts > 0),"
            " (SELECT count(*) FROM notifications WHERE status = 'pending'"
            "  AND kind = 'booking_confirmed' AND channel = 'email'),"
            " (SELECT count(*) FROM notifications WHERE status = 'pending'"
            "  AND kind = 'booking_confirmed' AND channel = 'email' AND due_at > now())",
            topic=WEBHOOK_TOPIC,
        )
        if not left_at_end:
            left_at_end = (
                f"webhooks={webhooks} (tried before: {retried}) mails={mails}"
                f" (leased or waiting to retry: {due_later})"
            )
        if webhooks + mails == 0:
            break
        time.sleep(0.5)
    return time.monotonic() - began, left_at_end


def mails_by_message_id(outbox: Path) -> Counter:
    parser = BytesHeaderParser()
    found: Counter = Counter()
    for path in outbox.glob("*.eml"):
        with open(path, "rb") as handle:
            found[parser.parse(handle)["Message-ID"]] += 1
    return found


def check(site: BenchSite, data: dict[str, Any]) -> dict[str, int]:
    """What the run left in the database and the mail outbox."""
    config = load_config(site.env())
    mails = mails_by_message_id(Path(str(config["MAIL_OUTBOX_DIR"])))

    def mailed(booking_id: int) -> int:
        key = notification_key("booking_confirmed", Channel.EMAIL, "booking", booking_id)
        return mails[message_id(key, config)]

    paid = site.sql(
        "SELECT b.id, b.status FROM bookings b JOIN payments p ON p.booking_id = b.id"
        " WHERE p.provider = 'demo' AND p.provider_ref IN (SELECT DISTINCT"
        "  payload -> 'event' ->> 'payment' FROM outbox WHERE topic = :topic"
        "  AND payload -> 'event' ->> 'type' = :succeeded)",
        topic=WEBHOOK_TOPIC,
        succeeded=EventKind.SUCCEEDED.value,
    )
    confirmed = [booking_id for booking_id, status in paid if status == "confirmed"]
    mailed_once = sum(1 for booking_id in confirmed if mailed(booking_id) == 1)
    every = [
        booking_id
        for (booking_id,) in site.sql("SELECT id FROM bookings WHERE status = 'confirmed'")
    ]
    times = Counter(min(mailed(booking_id), 2) for booking_id in every)
    oversold = 0
    for tier_id, capacity in data["tiers"].items():
        event_id = site.sql("SELECT event_id FROM ticket_tiers WHERE id = :t", t=int(tier_id))[0][0]
        _live, over, double = check_database(site, HotEvent(event_id, int(tier_id), capacity))
        oversold += over + double
    scarce = data["sale"]["scarce_tier_id"]
    (scarce_live,) = site.sql(
        "SELECT coalesce(sum(l.quantity), 0) FROM booking_lines l JOIN bookings b"
        " ON b.id = l.booking_id WHERE l.tier_id = :t AND b.status IN ('pending', 'confirmed')",
        t=scarce,
    )[0]
    return {
        "paid": len(paid),
        "confirmed": len(confirmed),
        "mailed_once": mailed_once,
        "lost": len(paid) - mailed_once,  # not confirmed, or not mailed exactly once
        "all_confirmed": len(every),
        "all_mailed_once": times[1],
        "all_unmailed": times[0],
        "all_mailed_twice": times[2],
        "oversold": oversold,
        "scarce_sold": scarce_live,
        "scarce_capacity": data["tiers"][str(scarce)],
    }


def one_run(*, fault: bool) -> dict[str, float]:
    # Behind one trusted proxy, as in production: each locust user names its own address
    # (bench/locustfile.py), so the limits per network count visitors, not this machine.
    os.environ.setdefault("TRUSTED_PROXIES", "1")
    with BenchSite(
        web_workers=int(os.environ.get("BENCH_WEB_WORKERS", "0")) or None, demo_payments=True
    ) as site:
        accounts = Accounts(
            password=BUYER_PASSWORD,
            buyers=site.create_buyers(BUYERS),
            staff=site.create_buyers(STAFF, prefix="staff"),
            api=site.create_buyers(API_USERS, prefix="app"),
            attendees=site.create_buyers(ATTENDEES, prefix="attendee"),
        )
        data = site.seed(lambda session: seed_workload(session, accounts))
        site.sql("ANALYZE")
        site.start_web()
        data_path, failures_path = site.tmp / "load.json", site.tmp / "failures.jsonl"
        data_path.write_text(json.dumps(data))
        csv_prefix = site.tmp / "locust"
        env = {**os.environ, "LOAD_DATA": str(data_path), "LOAD_FAILURES": str(failures_path)}
        command = locust_command(
            site.base_url, csv_prefix, users=USERS, spawn_rate=SPAWN_RATE, seconds=SECONDS
        )
        with open(site.tmp / "locust.log", "w") as log:
            started = time.time()
            locust = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
            kill = kill_in_the_middle(site, started) if fault else None
            locust.wait(timeout=SECONDS + STOP_TIMEOUT_S + 120)
        if not Path(f"{csv_prefix}_stats.csv").exists():
            raise RuntimeError((site.tmp / "locust.log").read_text()[-3000:])
        totals, by_name = locust_totals(csv_prefix)
        failures = (
            [json.loads(line) for line in failures_path.read_text().splitlines()]
            if failures_path.exists()
            else []
        )
        drained_s, left_at_end = drain(site)
        found = check(site, data)
    killed, outside = attribute(failures, kill)
    kinds = Counter(f"{f['name']} {f['status']} {f['error'][:60]}" for f in failures)
    print(
        f"run: users={USERS} seconds={SECONDS} requests={totals['requests']:.0f}"
        f" rps={totals['rps']:.1f} p95={totals['p95_ms']:.0f}ms errors={totals['errors']:.0f}"
        + (
            f" kill: web pid {kill.web_pid} replaced in {kill.web_back_s:.1f}s,"
            f" errors of the killed process={killed} outside={outside}"
            if kill
            else ""
        )
        + f" left at the end: {left_at_end}, drained in {drained_s:.1f}s"
        f" paid={found['paid']} confirmed={found['confirmed']}"
        f" mailed_once={found['mailed_once']} all confirmations: {found['all_confirmed']}"
        f" (mailed once {found['all_mailed_once']}, never {found['all_unmailed']},"
        f" more than once {found['all_mailed_twice']}) oversold={found['oversold']}"
        f" scarce tier {found['scarce_sold']}/{found['scarce_capacity']} sold",
        flush=True,
    )
    slowest = sorted(by_name.items(), key=lambda item: -item[1][1])[:5]
    print(
        "slowest p95: " + ", ".join(f"{name} {p95:.0f}ms (n={n})" for name, (n, p95) in slowest),
        flush=True,
    )
    if kinds:
        print(f"failures: {dict(kinds.most_common(10))}", flush=True)
    return {
        **totals,
        "errors_outside_killed": outside,
        **{key: float(value) for key, value in found.items()},
    }


def main() -> None:
    fault = "--fault" in sys.argv[1:]
    runs = [one_run(fault=fault) for _ in range(RUNS)]
    pick = {key: median([run[key] for run in runs]) for key in ("rps", "p95_ms", "errors")}
    if RUNS > 1:
        rates = ", ".join(f"{run['rps']:.0f}" for run in runs)
        print(f"median of {RUNS} runs (rps: {rates})", flush=True)
    line = f"rps={pick['rps']:.0f} p95_ms={pick['p95_ms']:.0f} errors={pick['errors']:.0f}"
    worst = {key: max(run[key] for run in runs) for key in ("errors_outside_killed", "lost")}
    if not fault:
        print(f"load: {line}", flush=True)
        return
    print(
        f"load-fault: {line} errors_outside_killed={worst['errors_outside_killed']:.0f}"
        f" paid={median([run['paid'] for run in runs]):.0f}"
        f" confirmed={median([run['confirmed'] for run in runs]):.0f}"
        f" mailed_once={median([run['mailed_once'] for run in runs]):.0f}"
        f" lost={worst['lost']:.0f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
