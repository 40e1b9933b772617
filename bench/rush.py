"""`make bench-rush`: a ticket rush through the real booking endpoint, and its ceiling.

The site runs as in production (gunicorn with gunicorn.conf.py, the worker process) on an
embedded PostgreSQL in a temporary data directory. A hot event has RUSH_UNITS (default 6,000)
general-admission units of a paid tier (so every sale is a hold), with a per-user limit
(so every request takes the per-user lock and counts). RUSH_BUYERS (default 200) buyers log
in through the login form, each with its own session, and open the tickets page for their
CSRF token (aiohttp, before the measured part). Then pgbench runs the same claim statement
(`app.domain.ticketing.claims`) with no web layer, alone and with the availability NOTIFY,
and the database is checked for overselling.

The rush itself is Debian's `wrk` running bench/rush.lua: RUSH_BUYERS connections (on
RUSH_WRK_THREADS threads, default 1) POST the booking form, each request with one buyer's
session cookie and CSRF token (the buyers in turn; one buyer's requests may overlap, the
server serializes them), until the first sold-out answer. wrk is C with a LuaJIT script:
about 0.1 ms of CPU per request where aiohttp took 0.5 ms, so the load generator no longer
takes a tenth of the 2 cores from the site it measures. wrk does not follow redirects: a 303
is a hold. Its p50/p99 cover every answer and include wrk's correction for coordinated
omission (extra samples for answers slower than twice the mean), which raises the tail.
holds_per_s and fill_ratio come from the database: the holds' `created_at` (the app's clock
at the request) against the wall clock when wrk started.

Each run also prints where the CPU went (web workers, PostgreSQL, worker, the load generator
with wrk, and everything else on the machine). Knobs: RUSH_RUNS (median of several runs),
RUSH_PGBENCH_CLIENTS / RUSH_PGBENCH_SECONDS, BENCH_WEB_WORKERS / BENCH_WEB_THREADS (override
gunicorn.conf.py), RUSH_WRK_THREADS, RUSH_PROFILE=<file> (py-spy profile of one web worker).

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
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from yarl import URL

from app.domain.ticketing.claims import CLAIM_GENERAL_ADMISSION
from app.domain.ticketing.hoarding import HoldRules
from app.web.csrf_token import csrf_token_from
from bench.load import (
    CpuMeter,
    HotEvent,
    close_all,
    create_hot_event,
    logged_in_buyers,
    median,
)
from bench.server import HOLD_RATE_MAX, BenchSite

UNITS = int(os.environ.get("RUSH_UNITS", "6000"))
BUYERS = int(os.environ.get("RUSH_BUYERS", "200"))
RUNS = int(os.environ.get("RUSH_RUNS", "1"))
PGBENCH_CLIENTS = int(os.environ.get("RUSH_PGBENCH_CLIENTS", "16"))
PGBENCH_SECONDS = int(os.environ.get("RUSH_PGBENCH_SECONDS", "8"))
PROFILE = os.environ.get("RUSH_PROFILE", "")
# Never reached (RUSH_UNITS / RUSH_BUYERS holds each): every claim still locks and counts.
PER_USER_LIMIT = 1000
WRK_THREADS = int(os.environ.get("RUSH_WRK_THREADS", "1"))  # 2 cost the same CPU here
WRK_MAX_SECONDS = 300  # an upper bound: the Lua script ends the run at the first sold-out answer
WRK_TIMEOUT_SECONDS = 30  # wrk leaves slower answers out of its latencies (errors: timeout)


@dataclass(frozen=True)
class Rush:
    started_at: float  # wall clock (Unix time) when wrk started
    statuses: str  # as wrk counted them, e.g. "303:6000,409:2"
    errors: str  # wrk's socket errors and statuses > 399
    p50_ms: float
    p99_ms: float


async def buyer_credentials(site: BenchSite, hot: HotEvent, emails: list[str]) -> list[str]:
    """Each buyer logs in and opens the tickets page once, whose form carries its session's
    CSRF token: one line per buyer, its Cookie header, a tab and its booking form body."""
    sessions = await logged_in_buyers(site, emails)
    base = URL(site.base_url)

    async def credentials(http: aiohttp.ClientSession) -> str:
        async with http.get(f"{site.base_url}/events/{hot.event_id}/tickets") as response:
            token = csrf_token_from(await response.text())
        cookies = http.cookie_jar.filter_cookies(base)
        cookie = "; ".join(f"{name}={morsel.coded_value}" for name, morsel in cookies.items())
        form = urlencode({"csrf_token": token, "tier_id": hot.tier_id, "quantity": 1})
        return f"{cookie}\t{form}"

    try:
        return list(await asyncio.gather(*(credentials(http) for http in sessions)))
    finally:
        await close_all(sessions)


def run_rush(site: BenchSite, hot: HotEvent, emails: list[str]) -> tuple[Rush, CpuMeter]:
    lines = asyncio.run(buyer_credentials(site, hot, emails))
    return run_wrk(site, f"{site.base_url}/events/{hot.event_id}/book", lines)


def run_wrk(
    site: BenchSite, url: str, lines: list[str], *, api: bool = False
) -> tuple[Rush, CpuMeter]:
    """wrk posting to `url` until sold out, a buyer's line at a time (bench/rush.lua)."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is missing: `make bench-rush` installs it (apt-get install wrk)")
    buyers_file = site.tmp / "buyers.tsv"
    buyers_file.write_text("\n".join(lines) + "\n")
    command = [
        wrk,
        f"--threads={WRK_THREADS}",
        f"--connections={len(lines)}",
        f"--duration={WRK_MAX_SECONDS}s",
        f"--timeout={WRK_TIMEOUT_SECONDS}s",
        f"--script={Path(__file__).with_name('rush.lua')}",
        url,
        "--",
        str(buyers_file),
        str(WRK_THREADS),
        *(["api"] if api else []),
    ]
    if PROFILE:
        profile_web_worker(site, PROFILE)
    with CpuMeter(site) as cpu:
        started_at = time.time()
        out = subprocess.run(command, capture_output=True, text=True, check=False)
    match = re.search(
        r"^rush-wrk: p50_us=(\d+) p99_us=(\d+) statuses=(\S*) errors=(\S*)$", out.stdout, re.M
    )
    if out.returncode or not match:
        raise RuntimeError(f"wrk failed:\n{out.stdout}\n{out.stderr}")
    p50_us, p99_us, statuses, errors = match.groups()
    rush = Rush(started_at, statuses, errors, int(p50_us) / 1000, int(p99_us) / 1000)
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
    rules = HoldRules(holds=HOLD_RATE_MAX)
    literals = {
        "reference": "substr(md5(random()::text), 1, 16)",
        "status": "'pending'",
        "currency": "'EUR'",
        "hold_expires_at": "now() + interval '10 minutes'",
        "confirmed_at": "NULL",
        "now": "now()",
        "confirm": "false",
        "holds_max": str(rules.holds),
        "expiries_max": str(rules.expiries),
        **{
            name: f"interval '{window.total_seconds():.0f} seconds'"
            for name, window in rules.params().items()
            if isinstance(window, timedelta)
        },
    }
    sql = re.sub(
        r"(?<!:):(\w+)\b",
        lambda m: literals.get(m.group(1), m.group(0)),
        CLAIM_GENERAL_ADMISSION.text,
    )
    sql = " ".join(sql.split()) + ";\n"
    if notify:
        sql = "BEGIN;\n" + sql + "SELECT pg_notify('availability', :event_id::text);\nCOMMIT;\n"
    # Each claim is one buyer's, so the per-user count stays as small as in the rush.
    return "\\set user_id random(:first_buyer, :last_buyer)\n" + sql


def ceiling(site: BenchSite, buyer_ids: tuple[int, int], *, notify: bool) -> float:
    """pgbench running the claim on a tier big enough not to sell out meanwhile."""
    hot = site.seed(lambda s: create_hot_event(s, capacity=80_000, price_minor=2500))
    return site.pgbench(
        claim_script(notify=notify),
        clients=PGBENCH_CLIENTS,
        seconds=PGBENCH_SECONDS,
        tier_id=hot.tier_id,
        event_id=hot.event_id,
        first_buyer=buyer_ids[0],
        last_buyer=buyer_ids[1],
        per_user_limit=PER_USER_LIMIT,
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


def sales_timeline(site: BenchSite, hot: HotEvent) -> list[float]:
    """When each live hold of the hot tier was made (Unix time): `created_at` is the app's
    clock when it handled the request."""
    rows = site.sql(
        "SELECT extract(epoch FROM b.created_at)::float8 FROM bookings b JOIN booking_lines l"
        " ON l.booking_id = b.id WHERE l.tier_id = :t AND b.status IN ('pending', 'confirmed')",
        t=hot.tier_id,
    )
    return [made_at for (made_at,) in rows]


def one_run() -> dict[str, float]:
    with BenchSite(
        web_workers=int(os.environ.get("BENCH_WEB_WORKERS", "0")),
        web_threads=int(os.environ.get("BENCH_WEB_THREADS", "0")),
    ) as site:
        hot = site.seed(
            lambda s: create_hot_event(
                s, capacity=UNITS, price_minor=2500, per_user_limit=PER_USER_LIMIT
            )
        )
        emails = site.create_buyers(BUYERS)
        site.start_web()
        rush, cpu = run_rush(site, hot, emails)
        holds, oversold, double_sold = check_database(site, hot)
        sold_at = sales_timeline(site, hot)
        site.stop_web()
        (buyer_ids,) = site.sql("SELECT min(id), max(id) FROM users WHERE email LIKE 'buyer%'")
        ceiling_plain = ceiling(site, tuple(buyer_ids), notify=False)
        ceiling_notify = ceiling(site, tuple(buyer_ids), notify=True)
    elapsed = max(sold_at) - rush.started_at if sold_at else 0.0
    result = {
        "holds": holds,
        "holds_per_s": holds / elapsed if elapsed > 0 else 0.0,
        "ceiling_per_s": ceiling_plain,
        "ceiling_notify_per_s": ceiling_notify,
        "p50_ms": rush.p50_ms,
        "p99_ms": rush.p99_ms,
        "fill_ratio": fill_ratio(sold_at),
        "oversold": oversold,
        "double_sold": double_sold,
    }
    print(
        f"run: units={hot.capacity} buyers={BUYERS} wrk_threads={WRK_THREADS} holds={holds}"
        f" in {elapsed:.1f}s statuses={rush.statuses} errors={rush.errors}"
        f" holds_per_s={result['holds_per_s']:.0f}"
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
