"""`make bench-sizes`: how big the data of one PostgreSQL grows, for docs/scaling.md.

On a throwaway embedded PostgreSQL (bench/server.py), not timed: the catalogue of
`flask demo generate` (SIZES_EVENTS, default 10,000 events with their tiers and units), the
admin dashboard benchmark's history (100,000 bookings with payments and refunds, no tickets),
and one event sold for real through the booking service: SIZES_BUYERS (default 5,000) buyers
each book 2 free tickets (booking, tickets, claimed units, audit, outbox rows as in production).
Then VACUUM ANALYZE and, per table: rows, heap bytes per row, total size with indexes.

Last line: sizes: database_mb=<n> bytes_per_ticket=<n> bytes_per_booking=<n>
"""

from __future__ import annotations

import os
import time

from sqlalchemy import select, text

from app.commands.generate import generate_events
from app.domain.accounts.models import User
from app.domain.base import utcnow
from app.domain.ticketing import allocation
from bench.dashboard import LOAD
from bench.load import create_hot_event
from bench.server import BenchSite

EVENTS = int(os.environ.get("SIZES_EVENTS", "10000"))
BUYERS = int(os.environ.get("SIZES_BUYERS", "5000"))
PER_BUYER = 2

TABLES = """
SELECT c.relname, c.reltuples::bigint, pg_relation_size(c.oid), pg_total_relation_size(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.reltuples > 0
ORDER BY pg_total_relation_size(c.oid) DESC
"""


def sell(site: BenchSite) -> int:
    """BUYERS bookings of PER_BUYER tickets on one event, through the booking service."""
    emails = site.create_buyers(BUYERS, prefix="sizes")
    hot = site.seed(
        lambda s: create_hot_event(s, capacity=BUYERS * PER_BUYER, price_minor=0, title="Sized")
    )
    now = utcnow()
    with site.database.session() as session:
        users = session.scalars(select(User).where(User.email.in_(emails))).all()
        for user in users:
            allocation.hold_tier(
                session,
                user=user,
                event_id=hot.event_id,
                tier_id=hot.tier_id,
                quantity=PER_BUYER,
                now=now,
                hold_minutes=10,
            )
            session.commit()
    return hot.event_id


def per_event(site: BenchSite, event_id: int) -> dict[str, int]:
    counts = {}
    for table in ("units", "bookings", "tickets"):
        query = f"SELECT count(*) FROM {table} WHERE event_id = :e"  # noqa: S608 (fixed names)
        if table == "tickets":
            query = (
                "SELECT count(*) FROM tickets t JOIN bookings b ON b.id = t.booking_id"
                " WHERE b.event_id = :e"
            )
        with site.database.engine.connect() as conn:
            counts[table] = conn.execute(text(query), {"e": event_id}).scalar_one()
    return counts


def run() -> int:
    with BenchSite() as site:
        started = time.perf_counter()
        with site.database.engine.begin() as conn:
            for statement in LOAD:
                conn.execute(text(statement))
        site.seed(lambda s: generate_events(s, EVENTS, now=utcnow()))
        event_id = sell(site)
        with site.database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("VACUUM ANALYZE")
        print(f"loaded in {time.perf_counter() - started:.0f} s", flush=True)
        rows = site.sql(TABLES)
        print(f"{'table':<28}{'rows':>10}{'heap B/row':>12}{'total MB':>10}")
        sizes = {}
        for name, count, heap, total in rows:
            sizes[name] = (count, heap, total)
            print(f"{name:<28}{count:>10}{heap / max(count, 1):>12.0f}{total / 2**20:>10.1f}")
        (database,) = site.sql("SELECT pg_database_size(current_database())")[0]
        counts = per_event(site, event_id)
        print(f"the sold event: {counts}", flush=True)

        def total_per_row(table: str) -> float:
            count, _heap, total = sizes[table]
            return total / max(count, 1)

        per_ticket = total_per_row("tickets") + total_per_row("units")
        per_booking = total_per_row("bookings")
        print(
            f"sizes: database_mb={database / 2**20:.0f} bytes_per_ticket={per_ticket:.0f}"
            f" bytes_per_booking={per_booking:.0f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(run())
