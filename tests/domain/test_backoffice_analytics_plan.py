"""The analytics and organizer-dashboard queries read only the event's (or organizer's)
own rows through indexes, however many bookings, payments and check-ins others have: no scan
of a whole table when the event is a small share of the site (100 bookings beside 40,000).
Checked by hand at 500 beside 300,000: the same plans. Where an event is a few percent of a
small table, the planner rightly prefers one scan of payments to hundreds of index probes.
The dashboard's week of sales reads `ix_bookings_event_confirmed` (migration 0022): without
it, an organizer with 100,000 bookings had every one of them read on each visit (10 ms there,
2 ms with it)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event as sa_event
from sqlalchemy import text

from app.domain.backoffice.analytics import event_analytics
from app.domain.backoffice.organizer_dashboard import organizer_summary
from app.domain.base import utcnow

FILL = """
INSERT INTO bookings (reference, event_id, status, quantity, total_minor, currency,
                      discount_minor, created_at, confirmed_at)
SELECT :prefix || g, :event_id, 'confirmed', 1, 2500, 'USD', 0, now(),
       now() - (g % 30) * interval '1 day'
FROM generate_series(1, :n) g;
INSERT INTO booking_lines (booking_id, tier_id, quantity, unit_price_minor)
SELECT id, :tier_id, 1, 2500 FROM bookings WHERE event_id = :event_id;
INSERT INTO payments (booking_id, provider, amount_minor, currency, status, idempotency_key,
                      refunded_minor, created_at, updated_at)
SELECT id, 'demo', 2500, 'USD', 'succeeded', 'k-' || id, 0, now(), now()
FROM bookings WHERE event_id = :event_id;
INSERT INTO tickets (booking_id, unit_id, tier_id, secret, status, created_at)
SELECT b.id, u.id, u.tier_id, md5(:prefix || u.id), 'valid', now()
FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM bookings
      WHERE event_id = :event_id) b
JOIN (SELECT id, tier_id, row_number() OVER (ORDER BY id) AS rn FROM units
      WHERE tier_id = :tier_id) u USING (rn);
INSERT INTO check_ins (ticket_id, event_id, tier_id, gate, scanned_at, recorded_at, offline)
SELECT t.id, :event_id, t.tier_id, 'Gate ' || (t.id % 4), now(), now(), false
FROM tickets t JOIN bookings b ON b.id = t.booking_id
WHERE b.event_id = :event_id AND t.id % 2 = 0;
"""
WHOLE_TABLES = ("bookings", "booking_lines", "payments", "tickets", "check_ins")


def _fill(db, tier, n: int, prefix: str) -> None:  # noqa: ANN001
    for statement in FILL.split(";"):
        if statement.strip():
            db.execute(
                text(statement),
                {"event_id": tier.event_id, "tier_id": tier.id, "n": n, "prefix": prefix},
            )


def _busy_site(db, make_tier):  # noqa: ANN001, ANN202
    """A tier of an event with 100 bookings (half its tickets checked in, 30 days of sales),
    beside another organizer's event with 40,000, analysed."""
    mine = make_tier(capacity=100, name="Floor")
    elsewhere = make_tier(capacity=40_000)
    _fill(db, mine, 100, "A")
    _fill(db, elsewhere, 40_000, "B")
    db.commit()
    with db.get_bind().engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE bookings, booking_lines, payments, tickets, check_ins"))
    db.refresh(mine.event)
    return mine


@contextmanager
def captured(db) -> Iterator[list[tuple[str, object]]]:  # noqa: ANN001
    engine = db.get_bind().engine
    statements: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        statements.append((statement, parameters))

    sa_event.listen(engine, "before_cursor_execute", keep)
    try:
        yield statements
    finally:
        sa_event.remove(engine, "before_cursor_execute", keep)


def _whole_table_scans(db, statements: list[tuple[str, object]]) -> list[str]:  # noqa: ANN001
    connection = db.connection()
    bad = []
    for statement, parameters in statements:
        plan = "\n".join(
            row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters)
        )
        if any(f"Seq Scan on {table}" in plan for table in WHOLE_TABLES):
            bad.append(plan)
    return bad


def test_analytics_and_dashboard_queries_use_indexes(db, make_tier) -> None:  # noqa: ANN001
    busy_site = _busy_site(db, make_tier)
    with captured(db) as statements:
        figures = event_analytics(db, busy_site.event)
    assert figures.sold == 100 and figures.money[0].gross == 100 * 2500
    assert figures.checked_in == 50 and len(figures.days) == 30
    assert len(statements) == 8  # the tiers, then seven aggregates
    bad = _whole_table_scans(db, statements)
    assert not bad, "\n\n".join(bad)

    shown = busy_site.event
    with captured(db) as statements:
        summary = organizer_summary(db, shown.organizer_id, [shown], now=utcnow())
    assert summary.sold == {shown.id: 100}
    assert 0 < summary.week.sold <= 100
    assert len(statements) == 2
    bad = _whole_table_scans(db, statements)
    assert not bad, "\n\n".join(bad)
    plan = "\n".join(
        row[0]
        for row in db.connection().exec_driver_sql("EXPLAIN " + statements[0][0], statements[0][1])
    )
    assert "ix_bookings_event_confirmed" in plan, plan
