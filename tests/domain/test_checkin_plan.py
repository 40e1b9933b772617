"""The door's counters read only the event's own rows through their partial indexes, however
many tickets other events have sold: at a realistic fill, no scan of the whole tickets or
check-ins table."""

from __future__ import annotations

from sqlalchemy import text

from app.domain.checkin import door

FILL = """
INSERT INTO bookings (reference, event_id, status, quantity, total_minor, currency,
                      discount_minor, created_at, confirmed_at)
SELECT :prefix || g, :event_id, 'confirmed', 1, 0, 'USD', 0, now(), now()
FROM generate_series(1, :n) g;
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


def fill(db, tier, n: int, prefix: str) -> None:  # noqa: ANN001
    for statement in FILL.split(";"):
        if statement.strip():
            db.execute(
                text(statement),
                {"event_id": tier.event_id, "tier_id": tier.id, "n": n, "prefix": prefix},
            )


def test_counters_use_indexes_at_realistic_fill(db, make_tier):  # noqa: ANN001
    door_tier = make_tier(capacity=2_000)
    elsewhere = make_tier(capacity=40_000)
    fill(db, door_tier, 2_000, "D")
    fill(db, elsewhere, 40_000, "E")
    db.commit()
    with db.get_bind().engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE bookings, tickets, check_ins"))
    seen = door.counters(db, door_tier.event)
    assert (seen.checked_in, seen.expected) == (1_000, 2_000)
    for query in (door._EXPECTED, door._CHECKED_IN):
        plan = "\n".join(
            db.scalars(text("EXPLAIN " + query.text), {"event_id": door_tier.event_id})
        )
        for table in ("tickets", "check_ins"):
            assert f"Seq Scan on {table}" not in plan, plan
        assert "ix_tickets_tier_valid" in plan or "ix_check_ins_event_live" in plan, plan
