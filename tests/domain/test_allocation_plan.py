"""The claim statement stays cheap as the event fills: it walks the index of free units."""

from __future__ import annotations

import re

from sqlalchemy import text

from app.domain.ticketing import claims
from app.domain.ticketing.hoarding import HoldRules


def test_claim_uses_the_free_units_index_at_realistic_fill(db, now, make_tier, make_user):
    """20,000 units, 90% sold: the claim must read the partial index, not skip sold rows."""
    tier = make_tier(capacity=20_000)
    filler = claims.claim_general_admission(
        db,
        user_id=make_user().id,
        event_id=tier.event_id,
        tier_id=tier.id,
        quantity=1,
        unit_price_minor=0,
        currency="USD",
        now=now,
        hold_expires_at=None,
        rules=HoldRules(),
    )
    db.execute(
        text("UPDATE units SET booking_id = :b WHERE tier_id = :t AND seat_order <= 18000"),
        {"b": filler.id, "t": tier.id},
    )
    db.commit()
    # As in production after autovacuum: the sold rows' old entries leave the partial index.
    with db.get_bind().engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE units"))
    params = {
        "tier_id": tier.id,
        "quantity": 2,
        "reference": "PLANTEST",
        "user_id": None,
        "event_id": tier.event_id,
        "status": "pending",
        "total_minor": 0,
        "unit_price_minor": 0,
        "currency": "USD",
        "hold_expires_at": now,
        "confirmed_at": None,
        "now": now,
        "confirm": False,
        "per_user_limit": 4,  # the limit's count runs too
        **HoldRules().params(),  # and the hoarding rules' counts
    }
    plan = "\n".join(
        db.scalars(
            text("EXPLAIN (ANALYZE, BUFFERS) " + claims.CLAIM_GENERAL_ADMISSION.text), params
        )
    )
    assert "Index Scan using ix_units_free" in plan, plan
    assert "Sort" not in plan, plan
    # The pick reads a handful of index pages, not the 18,000 sold rows.
    picked = plan[plan.index("CTE picked") : plan.index("CTE booking")]
    hits = [int(n) for n in re.findall(r"shared hit=(\d+)", picked)]
    assert hits and max(hits) < 100, plan
