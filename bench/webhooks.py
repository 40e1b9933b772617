"""`make bench-webhooks`: a provider's success webhooks, each delivered several times at once.

The site runs as in the other benchmarks (bench/server.py), with the demo payment provider
(`BenchSite(demo_payments=True)`: APP_ENV=bench, a signing secret of this run's). Setup, not
timed: WEBHOOK_BUYERS (default 200) buyers log in through the login form and, through the
real endpoints, make WEBHOOK_HOLDS (default 2,000) holds of a paid tier between them, each of
1 to WEBHOOK_MAX_QUANTITY (default 3) units (`POST /events/<id>/book`), and start a demo
payment for each (`POST /account/bookings/<reference>/pay`, whose 303 names the checkout
`/pay/demo/<provider_ref>`). The tier has exactly the units the holds take.

Then, timed: each payment's success event (`demo.new_event`, the payment's amount and
currency) is delivered WEBHOOK_COPIES (default 3) times, all copies shuffled, by
WEBHOOK_SENDERS (default 50) concurrent senders (aiohttp) to `POST /webhooks/demo`, each copy
signed as it is sent. `events` counts deliveries (POSTs), `events_per_s` is deliveries per
second of the delivery phase, `p99_ms` the 99th percentile of their latencies.

Then the database is checked: `confirmed` counts the holds confirmed; `double_confirmed` the
bookings with more live tickets than units, more than one succeeded payment not refunded, or
more than one recorded event that confirmed them; `tickets_per_booking_ok` is 1 when every
confirmed booking has exactly its quantity of valid tickets. Every delivery must answer 200
(the run's line counts the statuses, the outcomes the site answered, and the lock waits that
ran out and were retried, from the web log).

Knobs: WEBHOOK_RUNS (median of several runs), the ones above, BENCH_WEB_WORKERS /
BENCH_WEB_THREADS (override gunicorn.conf.py), WEBHOOK_PROFILE=<file> (py-spy profile of one
web worker during the deliveries, as RUSH_PROFILE).

Last line: webhooks: events=<n> events_per_s=<n> p99_ms=<n> confirmed=<n>
           double_confirmed=<n> tickets_per_booking_ok=<0|1>
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp

from app.integrations.payments.base import EventKind
from app.integrations.payments.demo import SIGNATURE_HEADER, body, new_event, sign
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
from bench.rush import profile_web_worker
from bench.server import BenchSite

HOLDS = int(os.environ.get("WEBHOOK_HOLDS", "2000"))
BUYERS = int(os.environ.get("WEBHOOK_BUYERS", "200"))
MAX_QUANTITY = int(os.environ.get("WEBHOOK_MAX_QUANTITY", "3"))
COPIES = int(os.environ.get("WEBHOOK_COPIES", "3"))
SENDERS = int(os.environ.get("WEBHOOK_SENDERS", "50"))
RUNS = int(os.environ.get("WEBHOOK_RUNS", "1"))
PROFILE = os.environ.get("WEBHOOK_PROFILE", "")
PRICE_MINOR = 2500
SETUP_ATTEMPTS = 3  # a hold or a payment start may be refused as busy on a saturated machine


def quantity_of(hold: int) -> int:
    """The units of the `hold`-th hold: 1, 2, ..., MAX_QUANTITY, 1, 2, ..."""
    return 1 + hold % MAX_QUANTITY


@dataclass(frozen=True)
class Paid:
    reference: str
    provider_ref: str


@dataclass
class Delivery:
    started: float = 0.0
    ended: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)


async def _post_expecting_303(http: aiohttp.ClientSession, url: str, form: dict) -> str:
    """POST a form; the path of the 303's Location (retried when the site says busy)."""
    for attempt in range(1, SETUP_ATTEMPTS + 1):
        async with http.post(url, data=form, allow_redirects=False) as answer:
            text = await answer.text()
            if answer.status == 303:
                return urlsplit(answer.headers["Location"]).path
        if attempt == SETUP_ATTEMPTS:
            raise RuntimeError(f"POST {url} answered {answer.status}: {text[:300]}")
        await asyncio.sleep(attempt)
    raise AssertionError("unreachable")


async def hold_and_pay(site: BenchSite, hot: HotEvent, emails: list[str]) -> list[Paid]:
    """Every buyer, logged in, holds its share of the holds and starts a demo payment for
    each through the real pages; one (reference, provider_ref) per hold."""
    sessions = await logged_in_buyers(site, emails)
    base = site.base_url

    async def buyer(index: int, http: aiohttp.ClientSession) -> list[Paid]:
        async with http.get(f"{base}/events/{hot.event_id}/tickets") as page:
            token = csrf_token_from(await page.text())
        paid = []
        for hold in range(index, HOLDS, len(sessions)):
            form = {"csrf_token": token, "tier_id": hot.tier_id, "quantity": quantity_of(hold)}
            booking_path = await _post_expecting_303(
                http, f"{base}/events/{hot.event_id}/book", form
            )
            reference = booking_path.rstrip("/").rsplit("/", 1)[1]
            form = {"csrf_token": token, "provider": "demo"}
            checkout_path = await _post_expecting_303(
                http, f"{base}/account/bookings/{reference}/pay", form
            )
            if not checkout_path.startswith("/pay/demo/"):
                raise RuntimeError(f"paying {reference} went to {checkout_path}")
            paid.append(Paid(reference, checkout_path.rsplit("/", 1)[1]))
        return paid

    try:
        shares = await asyncio.gather(*(buyer(i, http) for i, http in enumerate(sessions)))
    finally:
        await close_all(sessions)
    return [one for share in shares for one in share]


def success_events(site: BenchSite, paid: list[Paid]) -> list[dict]:
    """The demo's success event of every payment started, with the payment's own amount."""
    rows = site.sql(
        "SELECT provider_ref, amount_minor, currency FROM payments"
        " WHERE provider = 'demo' AND status = 'pending' AND provider_ref = ANY(:refs)",
        refs=[one.provider_ref for one in paid],
    )
    if len(rows) != len(paid):
        raise RuntimeError(f"{len(paid)} payments started, {len(rows)} pending in the database")
    return [
        new_event(EventKind.SUCCEEDED, provider_ref=ref, amount_minor=amount, currency=currency)
        for ref, amount, currency in rows
    ]


async def deliver(site: BenchSite, events: list[dict]) -> Delivery:
    """Every event COPIES times, shuffled, by SENDERS concurrent senders; signed at send."""
    copies = [body(event) for event in events for _ in range(COPIES)]
    random.shuffle(copies)
    url = f"{site.base_url}/webhooks/demo"
    secret = site.demo_pay_secret
    delivery = Delivery()
    queue = iter(copies)

    async def sender(http: aiohttp.ClientSession) -> None:
        for data in queue:  # one shared iterator: each copy is taken once
            headers = {SIGNATURE_HEADER: sign(secret, data), "Content-Type": "application/json"}
            began = time.perf_counter()
            async with http.post(url, data=data, headers=headers) as answer:
                reply = await answer.json(content_type=None)
            delivery.latencies.append(time.perf_counter() - began)
            delivery.statuses[answer.status] += 1
            outcome = reply.get("outcome") or reply.get("error") or "?"
            delivery.outcomes[outcome.split(":")[0]] += 1

    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=SENDERS),
        timeout=aiohttp.ClientTimeout(total=120),
    ) as http:
        delivery.started = time.perf_counter()
        await asyncio.gather(*(sender(http) for _ in range(SENDERS)))
        delivery.ended = time.perf_counter()
    return delivery


def check_database(site: BenchSite, hot: HotEvent) -> dict[str, int]:
    """What the deliveries left: confirmed holds, double confirmations, tickets per booking."""
    ((holds, confirmed),) = site.sql(
        "SELECT count(*), count(*) FILTER (WHERE status = 'confirmed') FROM bookings"
        " WHERE event_id = :e",
        e=hot.event_id,
    )
    # A booking confirmed twice shows as more live tickets than its units, two payments kept,
    # or two recorded provider events that each confirmed it.
    (double_confirmed,) = site.sql(
        "SELECT count(*) FROM bookings b WHERE b.event_id = :e AND ("
        " (SELECT count(*) FROM tickets t WHERE t.booking_id = b.id AND t.status <> 'void')"
        "   > b.quantity"
        " OR (SELECT count(*) FROM payments p WHERE p.booking_id = b.id"
        "     AND p.status = 'succeeded' AND p.refunded_minor = 0) > 1"
        " OR (SELECT count(*) FROM payment_events pe JOIN payments p ON p.id = pe.payment_id"
        "     WHERE p.booking_id = b.id AND pe.outcome = 'confirmed') > 1)",
        e=hot.event_id,
    )[0]
    (tickets_wrong,) = site.sql(
        "SELECT count(*) FROM bookings b WHERE b.event_id = :e AND b.status = 'confirmed'"
        " AND (SELECT count(*) FROM tickets t WHERE t.booking_id = b.id AND t.status = 'valid')"
        "   <> b.quantity",
        e=hot.event_id,
    )[0]
    (refunds,) = site.sql(
        "SELECT count(*) FROM refunds r JOIN payments p ON p.id = r.payment_id"
        " JOIN bookings b ON b.id = p.booking_id WHERE b.event_id = :e",
        e=hot.event_id,
    )[0]
    (recorded,) = site.sql("SELECT count(*) FROM payment_events WHERE provider = 'demo'")[0]
    return {
        "holds": holds,
        "confirmed": confirmed,
        "double_confirmed": double_confirmed,
        "tickets_wrong": tickets_wrong,
        "refunds": refunds,
        "recorded_events": recorded,
    }


def one_run() -> dict[str, float]:
    units = sum(quantity_of(hold) for hold in range(HOLDS))
    with BenchSite(
        web_workers=int(os.environ.get("BENCH_WEB_WORKERS", "0")),
        web_threads=int(os.environ.get("BENCH_WEB_THREADS", "0")),
        demo_payments=True,
    ) as site:
        hot = site.seed(lambda s: create_hot_event(s, capacity=units, price_minor=PRICE_MINOR))
        emails = site.create_buyers(BUYERS)
        site.start_web()
        setup_began = time.perf_counter()
        paid = asyncio.run(hold_and_pay(site, hot, emails))
        events = success_events(site, paid)
        setup_s = time.perf_counter() - setup_began
        if PROFILE:
            profile_web_worker(site, PROFILE)
        with CpuMeter(site) as cpu:
            delivery = asyncio.run(deliver(site, events))
        found = check_database(site, hot)
        # The endpoint logs each lock wait that ran out (it rolls back and tries again).
        busy = (site.tmp / "web.log").read_text().count(": busy, attempt")
    elapsed = delivery.ended - delivery.started
    sent = sum(delivery.statuses.values())
    result = {
        "events": sent,
        "events_per_s": sent / elapsed if elapsed else 0.0,
        "p50_ms": percentile_ms(delivery.latencies, 50),
        "p99_ms": percentile_ms(delivery.latencies, 99),
        "confirmed": found["confirmed"],
        "double_confirmed": found["double_confirmed"],
        "tickets_per_booking_ok": 1 if found["confirmed"] and not found["tickets_wrong"] else 0,
        "non_200": sent - delivery.statuses[200],
        "web_cpu_ms": cpu.used["web"] / sent * 1000 if sent else 0.0,
        "postgres_cpu_ms": cpu.used["postgres"] / sent * 1000 if sent else 0.0,
    }
    print(
        f"run: holds={found['holds']} units={units} buyers={BUYERS} setup={setup_s:.1f}s"
        f" deliveries={sent} ({len(events)} events x {COPIES}) in {elapsed:.1f}s"
        f" senders={SENDERS} statuses={dict(delivery.statuses)}"
        f" outcomes={dict(delivery.outcomes)} recorded_events={found['recorded_events']}"
        f" refunds={found['refunds']} tickets_wrong={found['tickets_wrong']} busy_retries={busy}"
        f" events_per_s={result['events_per_s']:.0f}"
        f" confirmations_per_s={found['confirmed'] / elapsed if elapsed else 0:.0f}"
        f" p50={result['p50_ms']:.0f}ms p99={result['p99_ms']:.0f}ms"
        f" cpu_per_delivery: web={result['web_cpu_ms']:.2f}ms"
        f" postgres={result['postgres_cpu_ms']:.2f}ms",
        flush=True,
    )
    print(cpu.line(), flush=True)
    return result


def main() -> None:
    runs = [one_run() for _ in range(RUNS)]
    pick = {key: median([run[key] for run in runs]) for key in runs[0]}
    # The correctness figures are the worst run's, not a median.
    worst_confirmed = min(run["confirmed"] for run in runs)
    double = max(run["double_confirmed"] for run in runs)
    tickets_ok = min(run["tickets_per_booking_ok"] for run in runs)
    if RUNS > 1:
        rates = ", ".join(f"{run['events_per_s']:.0f}" for run in runs)
        print(f"median of {RUNS} runs (events_per_s: {rates})", flush=True)
    print(
        f"webhooks: events={pick['events']:.0f} events_per_s={pick['events_per_s']:.0f}"
        f" p99_ms={pick['p99_ms']:.0f} confirmed={worst_confirmed:.0f}"
        f" double_confirmed={double:.0f} tickets_per_booking_ok={tickets_ok:.0f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
