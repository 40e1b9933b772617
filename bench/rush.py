"""`make bench-rush`: a ticket rush through the real booking endpoint, and its ceiling.

The site runs as in production (gunicorn with gunicorn.conf.py, the worker process) on an
embedded PostgreSQL in a temporary data directory. A hot event has RUSH_UNITS (default 6,000)
general-admission units of a paid tier (so every sale is a hold), with a per-user limit
(so every request takes the per-user lock and counts). RUSH_BUYERS (default 200) buyers,
each logged in through the login form with its own session, POST the booking form with
their CSRF token until the tier is sold out. Then pgbench runs the same claim statement
(`app.domain.ticketing.claims`) with no web layer, alone and with the availability NOTIFY,
and the database is checked for overselling.

Each run also prints where the CPU went (web workers, PostgreSQL, worker, this load
generator, and everything else on the machine). Knobs: RUSH_RUNS (median of several runs),
RUSH_PGBENCH_CLIENTS / RUSH_PGBENCH_SECONDS, BENCH_WEB_WORKERS / BENCH_WEB_THREADS (override
gunicorn.conf.py), RUSH_PROFILE=<file> (py-spy profile of one web worker).

Last line:
rush: holds_per_s=<n> ceiling_per_s=<n> ratio=<holds/ceiling> p50_ms=<n> p99_ms=<n>
      fill_ratio=<last 10% rate / first 10% rate> oversold=<n> double_sold=<n>
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from app.domain.ticketing.claims import CLAIM_GENERAL_ADMISSION
from bench.load import (
    CpuMeter,
    HotEvent,
    close_all,
    create_hot_event,
    logged_in_buyers,
    median,
    percentile_ms,
)
from bench.server import BenchSite
from tests.conftest import csrf_token_from

UNITS = int(os.environ.get("RUSH_UNITS", "6000"))
BUYERS = int(os.environ.get("RUSH_BUYERS", "200"))
RUNS = int(os.environ.get("RUSH_RUNS", "1"))
PGBENCH_CLIENTS = int(os.environ.get("RUSH_PGBENCH_CLIENTS", "16"))
PGBENCH_SECONDS = int(os.environ.get("RUSH_PGBENCH_SECONDS", "8"))
PROFILE = os.environ.get("RUSH_PROFILE", "")
SOLD_OUT = "not enough tickets left"


@dataclass
class Rush:
    started: float = 0.0
    sold_at: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    sold_out: bool = False


async def csrf_token(http, base_url: str, hot: HotEvent) -> str:  # noqa: ANN001
    """The buyer opens the tickets page once: its form carries the session's CSRF token."""
    async with http.get(f"{base_url}/events/{hot.event_id}/tickets") as response:
        return csrf_token_from(await response.text())


async def buyer(http, base_url: str, hot: HotEvent, token: str, rush: Rush) -> None:  # noqa: ANN001
    form = {"csrf_token": token, "tier_id": str(hot.tier_id), "quantity": "1"}
    book_url = f"{base_url}/events/{hot.event_id}/book"
    while not rush.sold_out:
        began = time.perf_counter()
        async with http.post(book_url, data=form, allow_redirects=False) as response:
            body = await response.read()
        ended = time.perf_counter()
        rush.statuses[response.status] += 1
        if response.status == 303:
            rush.sold_at.append(ended)
            rush.latencies.append(ended - began)
        elif response.status == 409 and SOLD_OUT.encode() in body:
            rush.sold_out = True


async def run_rush(site: BenchSite, hot: HotEvent, emails: list[str]) -> tuple[Rush, CpuMeter]:
    sessions = await logged_in_buyers(site, emails)
    tokens = await asyncio.gather(*(csrf_token(http, site.base_url, hot) for http in sessions))
    rush = Rush()
    if PROFILE:
        profile_web_worker(site, PROFILE)
    try:
        with CpuMeter(site) as cpu:
            rush.started = time.perf_counter()
            await asyncio.gather(
                *(
                    buyer(http, site.base_url, hot, token, rush)
                    for http, token in zip(sessions, tokens, strict=True)
                )
            )
    finally:
        await close_all(sessions)
    return rush, cpu


def profile_web_worker(site: BenchSite, output: str) -> None:
    """RUSH_PROFILE=<file>: py-spy samples one web worker's CPU (GIL held) during the rush,
    in py-spy's raw (folded stacks) format. py-spy is not a dependency: `pip install py-spy`."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        print("RUSH_PROFILE: py-spy is not installed, no profile", flush=True)
        return
    pid = site.web_pids()[0]
    subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(pid),
            "--duration",
            "6",
            "--rate",
            "200",
            "--format",
            "raw",
            "--output",
            output,
            "--nonblocking",
            "--gil",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def fill_ratio(sold_at: list[float]) -> float:
    """Sales rate over the last 10% of units divided by the rate over the first 10%."""
    tenth = len(sold_at) // 10
    if tenth < 2:
        return 0.0
    ordered = sorted(sold_at)
    first = ordered[tenth - 1] - ordered[0]
    last = ordered[-1] - ordered[-tenth]
    return first / last if last > 0 else 0.0


def claim_script(*, notify: bool) -> str:
    """The claim statement the booking endpoint runs, as a pgbench script."""
    literals = {
        "reference": "substr(md5(random()::text), 1, 16)",
        "status": "'pending'",
        "currency": "'EUR'",
        "hold_expires_at": "now() + interval '10 minutes'",
        "confirmed_at": "NULL",
        "now": "now()",
        "confirm": "false",
    }
    sql = re.sub(
        r"(?<!:):(\w+)\b",
        lambda m: literals.get(m.group(1), m.group(0)),
        CLAIM_GENERAL_ADMISSION.text,
    )
    sql = " ".join(sql.split()) + ";\n"
    if not notify:
        return sql
    return "BEGIN;\n" + sql + "SELECT pg_notify('availability', :event_id::text);\nCOMMIT;\n"


def ceiling(site: BenchSite, user_id: int, *, notify: bool) -> float:
    """pgbench running the claim on a tier big enough not to sell out meanwhile."""
    hot = site.seed(lambda s: create_hot_event(s, capacity=80_000, price_minor=2500))
    return site.pgbench(
        claim_script(notify=notify),
        clients=PGBENCH_CLIENTS,
        seconds=PGBENCH_SECONDS,
        tier_id=hot.tier_id,
        event_id=hot.event_id,
        user_id=user_id,
        quantity=1,
        total_minor=2500,
        unit_price_minor=2500,
    )


def check_database(site: BenchSite, hot: HotEvent) -> tuple[int, int, int]:
    """(holds, oversold, double_sold) counted in the database."""
    (live_units,) = site.sql(
        "SELECT coalesce(sum(l.quantity), 0) FROM booking_lines l JOIN bookings b"
        " ON b.id = l.booking_id WHERE l.tier_id = :t AND b.status IN ('pending', 'confirmed')",
        t=hot.tier_id,
    )[0]
    (linked,) = site.sql(
        "SELECT count(*) FROM units u JOIN bookings b ON b.id = u.booking_id"
        " WHERE u.tier_id = :t AND b.status IN ('pending', 'confirmed')",
        t=hot.tier_id,
    )[0]
    (twice_ticketed,) = site.sql(
        "SELECT count(*) FROM (SELECT unit_id FROM tickets WHERE status <> 'void'"
        " GROUP BY unit_id HAVING count(*) > 1) AS t"
    )[0]
    oversold = max(0, live_units - hot.capacity)
    # Bookings promised more units than they own, or a unit behind two live tickets.
    double_sold = max(0, live_units - linked) + twice_ticketed
    return live_units, oversold, double_sold


def one_run() -> dict[str, float]:
    with BenchSite(
        web_workers=int(os.environ.get("BENCH_WEB_WORKERS", "0")),
        web_threads=int(os.environ.get("BENCH_WEB_THREADS", "0")),
    ) as site:
        hot = site.seed(
            lambda s: create_hot_event(s, capacity=UNITS, price_minor=2500, per_user_limit=1000)
        )
        emails = site.create_buyers(BUYERS)
        site.start_web()
        rush, cpu = asyncio.run(run_rush(site, hot, emails))
        holds, oversold, double_sold = check_database(site, hot)
        site.stop_web()
        (buyer_id,) = site.sql("SELECT min(id) FROM users WHERE email LIKE 'buyer%'")[0]
        ceiling_plain = ceiling(site, buyer_id, notify=False)
        ceiling_notify = ceiling(site, buyer_id, notify=True)
    elapsed = max(rush.sold_at) - rush.started if rush.sold_at else 0.0
    result = {
        "holds": holds,
        "holds_per_s": len(rush.sold_at) / elapsed if elapsed else 0.0,
        "ceiling_per_s": ceiling_plain,
        "ceiling_notify_per_s": ceiling_notify,
        "p50_ms": percentile_ms(rush.latencies, 50),
        "p99_ms": percentile_ms(rush.latencies, 99),
        "fill_ratio": fill_ratio(rush.sold_at),
        "oversold": oversold,
        "double_sold": double_sold,
    }
    print(
        f"run: units={hot.capacity} buyers={BUYERS} holds={holds} in {elapsed:.1f}s"
        f" statuses={dict(rush.statuses)} holds_per_s={result['holds_per_s']:.0f}"
        f" pgbench claim={ceiling_plain:.0f}/s claim+notify={ceiling_notify:.0f}/s"
        f" p50={result['p50_ms']:.0f}ms p99={result['p99_ms']:.0f}ms"
        f" fill_ratio={result['fill_ratio']:.2f}",
        flush=True,
    )
    print(cpu.line(), flush=True)
    return result


def main() -> None:
    runs = [one_run() for _ in range(RUNS)]
    pick = {key: median([run[key] for run in runs]) for key in runs[0]}
    worst = {key: max(run[key] for run in runs) for key in ("oversold", "double_sold")}
    ratio = pick["holds_per_s"] / pick["ceiling_per_s"] if pick["ceiling_per_s"] else 0.0
    if RUNS > 1:
        print(f"median of {RUNS} runs", flush=True)
    print(
        f"rush: holds_per_s={pick['holds_per_s']:.0f} ceiling_per_s={pick['ceiling_per_s']:.0f}"
        f" ratio={ratio:.3f} p50_ms={pick['p50_ms']:.0f} p99_ms={pick['p99_ms']:.0f}"
        f" fill_ratio={pick['fill_ratio']:.2f} oversold={worst['oversold']:.0f}"
        f" double_sold={worst['double_sold']:.0f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
