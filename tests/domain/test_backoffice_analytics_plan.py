"""The analytics queries read only the event's own rows through indexes, however many
bookings, payments and check-ins other events have: no scan of a whole table when the event
is a small share of the site (100 bookings beside 40,000). Checked by hand at 500 beside
300,000: the same plans. Where an event is a few percent of a small table, the planner rightly
prefers one scan of payments to hundreds of index probes; that is cheap at that size."""

from __future__ import annotations

from sqlalchemy import event as sa_event
from sqlalchemy import text

from app.domain.backoffice.analytics import event_analytics

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


def test_analytics_queries_use_the_events_indexes(db, make_tier) -> None:  # noqa: ANN001
    mine = make_tier(capacity=100, name="Floor")
    elsewhere = make_tier(capacity=40_000)
    _fill(db, mine, 100, "A")
    _fill(db, elsewhere, 40_000, "B")
    db.commit()
    engine = db.get_bind().engine
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE bookings, booking_lines, payments, tickets, check_ins"))
    shown = mine.event
    db.refresh(shown)
    statements: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        statements.append((statement, parameters))

    sa_event.listen(engine, "before_cursor_execute", keep)
    try:
        figures = event_analytics(db, shown)
    finally:
        sa_event.remove(engine, "before_cursor_execute", keep)
    assert figures.sold == 100 and figures.money[0].gross == 100 * 2500
    assert figures.checked_in == 50 and len(figures.days) == 30
    assert len(statements) == 8  # the tiers, then seven aggregates
    connection = db.connection()
    bad: list[str] = []
    for statement, parameters in statements:
        plan = "\n".join(
            row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters)
        )
        scanned = [table for table in WHOLE_TABLES if f"Seq Scan on {table}" in plan]
        bad.extend(plan for _ in scanned[:1])
    assert not bad, "\n\n".join(bad)
