"""Migration 0009 on a database with bookings and waitlists: bookings cancelled before it were
cancelled by their buyers, and it goes down (closed waitlist places read as left) and up."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.db import make_engine
from app.migrate import alembic_config, upgrade

_BEFORE_0009 = """
INSERT INTO users (id, email, name, role, created_at, preferences)
VALUES (1, 'b@example.test', 'B', 'attendee', now(), '{}');
INSERT INTO events (id, organizer_id, title, slug, description, event_type, starts_at, ends_at,
                    timezone, tags, status, is_seated, currency, sold_count, created_at,
                    updated_at)
VALUES (1, 1, 'Old', 'old', '', 'online', now() + interval '9 days',
        now() + interval '10 days', 'UTC', '{}', 'published', false, 'USD', 0, now(), now());
INSERT INTO ticket_tiers (id, event_id, name, kind, description, price_minor, currency,
                          capacity, min_per_order, max_per_order, hidden, position, created_at)
VALUES (1, 1, 'Free', 'free', '', 0, 'USD', 1, 1, 1, false, 0, now());
INSERT INTO bookings (id, reference, user_id, event_id, status, quantity, total_minor, currency,
                      created_at)
VALUES (1, 'OLDCANC1', 1, 1, 'cancelled', 1, 0, 'USD', now()),
       (2, 'OLDCONF2', 1, 1, 'confirmed', 1, 0, 'USD', now());
INSERT INTO waitlist_entries (id, tier_id, user_id, quantity, status, created_at)
VALUES (1, 1, 1, 1, 'waiting', now());
"""


def test_0009_backfills_reasons_and_goes_down_and_up(blank_url: str) -> None:
    upgrade(blank_url, "0007")
    engine = make_engine(blank_url, pool_size=1)
    try:
        with engine.begin() as conn:
            for statement in _BEFORE_0009.split(";"):
                if statement.strip():
                    conn.execute(text(statement))
        upgrade(blank_url, "0009")
        with engine.begin() as conn:
            reasons = conn.execute(
                text("SELECT reference, cancellation_reason FROM bookings ORDER BY id")
            ).all()
            assert reasons == [("OLDCANC1", "buyer"), ("OLDCONF2", None)]
            assert conn.scalar(text("SELECT version FROM events")) == 1
            conn.execute(text("UPDATE waitlist_entries SET status = 'closed'"))
        refused = pytest.raises(IntegrityError, match="ck_bookings_cancellation_reason")
        with refused, engine.begin() as conn:
            conn.execute(text("UPDATE bookings SET cancellation_reason = 'whim'"))
        command.downgrade(alembic_config(blank_url), "0007")
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT status FROM waitlist_entries")) == "left"
        upgrade(blank_url, "0009")
    finally:
        engine.dispose()
