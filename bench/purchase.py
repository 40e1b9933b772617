"""`make bench-purchase`: buyers living through whole pages, the way a browser does.

Same production-like site as the rush (bench/server.py). PURCHASE_BUYERS (default 200)
buyers, each logged in with its own session, repeat until the free tier of
PURCHASE_UNITS (default 3,000) tickets is sold out: GET the event page and take the CSRF
token from its ticket panel, POST the booking form, follow the redirect to the booking page
and check it shows the booking confirmed. An order counts when that page says so; the
database is counted afterwards.

Last line: purchase: orders=<n> orders_per_s=<n> p50_ms=<n> p99_ms=<n> oversold=<n>
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from dataclasses import dataclass, field

from app.web.csrf_token import csrf_token_from
from bench.load import (
    CpuMeter,
    HotEvent,
    close_all,
    create_hot_event,
    logged_in_buyers,
    median,
    percentile_ms,
)
from bench.rush import check_database
from bench.server import BenchSite

UNITS = int(os.environ.get("PURCHASE_UNITS", "3000"))
BUYERS = int(os.environ.get("PURCHASE_BUYERS", "200"))
RUNS = int(os.environ.get("PURCHASE_RUNS", "1"))
SOLD_OUT = "not enough tickets left"


@dataclass
class Shop:
    started: float = 0.0
    done_at: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    problems: Counter = field(default_factory=Counter)
    sold_out: bool = False


async def buyer(http, base_url: str, hot: HotEvent, shop: Shop) -> None:  # noqa: ANN001
    # The event's canonical address (/events/<id>-<slug>), as a link from a listing gives it.
    async with http.get(f"{base_url}/events/{hot.event_id}") as page:
        event_url = str(page.url)
    book_url = f"{base_url}/events/{hot.event_id}/book"
    while not shop.sold_out:
        began = time.perf_counter()
        async with http.get(event_url) as page:
            html = await page.text()
        if page.status != 200:
            shop.problems[f"event page {page.status}"] += 1
            continue
        form = {"csrf_token": csrf_token_from(html), "tier_id": str(hot.tier_id), "quantity": "1"}
        async with http.post(book_url, data=form) as answer:  # follows the redirect
            body = await answer.text()
        ended = time.perf_counter()
        if answer.status == 200 and "/account/bookings/" in str(answer.url) and "Confirmed" in body:
            shop.done_at.append(ended)
            shop.latencies.append(ended - began)
        elif answer.status == 409 and SOLD_OUT in body:
            shop.sold_out = True
        else:
            shop.problems[f"booking {answer.status}"] += 1


async def run_shop(site: BenchSite, hot: HotEvent, emails: list[str]) -> tuple[Shop, CpuMeter]:
    sessions = await logged_in_buyers(site, emails)
    shop = Shop()
    try:
        with CpuMeter(site) as cpu:
            shop.started = time.perf_counter()
            await asyncio.gather(*(buyer(http, site.base_url, hot, shop) for http in sessions))
    finally:
        await close_all(sessions)
    return shop, cpu


def one_run() -> dict[str, float]:
    with BenchSite(
        web_workers=int(os.environ.get("BENCH_WEB_WORKERS", "0")),
        web_threads=int(os.environ.get("BENCH_WEB_THREADS", "0")),
    ) as site:
        hot = site.seed(lambda s: create_hot_event(s, capacity=UNITS, price_minor=0))
        emails = site.create_buyers(BUYERS)
        site.start_web()
        shop, cpu = asyncio.run(run_shop(site, hot, emails))
        orders, oversold, double_sold = check_database(site, hot)
    elapsed = max(shop.done_at) - shop.started if shop.done_at else 0.0
    result = {
        "orders": orders,
        "orders_per_s": len(shop.done_at) / elapsed if elapsed else 0.0,
        "p50_ms": percentile_ms(shop.latencies, 50),
        "p99_ms": percentile_ms(shop.latencies, 99),
        "oversold": oversold + double_sold,
    }
    print(
        f"run: units={hot.capacity} buyers={BUYERS} orders={orders} confirmed_pages="
        f"{len(shop.done_at)} in {elapsed:.1f}s problems={dict(shop.problems)}"
        f" orders_per_s={result['orders_per_s']:.0f} p50={result['p50_ms']:.0f}ms"
        f" p99={result['p99_ms']:.0f}ms",
        flush=True,
    )
    print(cpu.line(), flush=True)
    return result


def main() -> None:
    runs = [one_run() for _ in range(RUNS)]
    pick = {key: median([run[key] for run in runs]) for key in runs[0]}
    oversold = max(run["oversold"] for run in runs)
    if RUNS > 1:
        print(f"median of {RUNS} runs", flush=True)
    print(
        f"purchase: orders={pick['orders']:.0f} orders_per_s={pick['orders_per_s']:.0f}"
        f" p50_ms={pick['p50_ms']:.0f} p99_ms={pick['p99_ms']:.0f} oversold={oversold:.0f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
