"""Migration 0014: double admissions, a check-in's tier (filled in for check-ins already made)
and the counters' indexes come and go with their migration."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from app.db import make_engine
from app.migrate import alembic_config, upgrade


def test_0014_goes_down_and_up_again_keeping_check_ins(blank_url: str) -> None:
    upgrade(blank_url, "0013")
    engine = make_engine(blank_url, pool_size=1)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (id, email, name, role, preferences, created_at)"
                    " VALUES (1, 'o@x.test', 'O', 'organizer', '{}', now());"
                    "INSERT INTO events (id, organizer_id, title, slug, description, event_type,"
                    " starts_at, ends_at, timezone, tags, currency, sold_count, status,"
                    " is_seated, created_at, updated_at)"
                    " VALUES (1, 1, 'E', 'e', '', 'offline', now(), now() + interval '1 hour',"
                    " 'UTC', '{}', 'USD', 0, 'published', false, now(), now());"
                    "INSERT INTO ticket_tiers (id, event_id, name, kind, description,"
                    " price_minor, currency, capacity, min_per_order, max_per_order, hidden,"
                    " position, created_at) VALUES (7, 1, 'T', 'free', '', 0, 'USD', 1, 1, 1,"
                    " false, 0, now());"
                    "INSERT INTO units (id, event_id, tier_id, seat_order, blocked, accessible)"
                    " VALUES (1, 1, 7, 0, false, false);"
                    "INSERT INTO bookings (id, reference, event_id, status, quantity,"
                    " total_minor, currency, discount_minor, created_at)"
                    " VALUES (1, 'R', 1, 'confirmed', 1, 0, 'USD', 0, now());"
                    "INSERT INTO tickets (id, booking_id, unit_id, tier_id, secret, status,"
                    " created_at) VALUES (1, 1, 1, 7, 's', 'valid', now());"
                    "INSERT INTO check_ins (ticket_id, event_id, gate, scanned_at,"
                    " recorded_at, offline) VALUES (1, 1, 'Main', now(), now(), false)"
                )
            )
        upgrade(blank_url, "0014")
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT tier_id FROM check_ins")) == 7
        assert "double_admissions" in set(inspect(engine).get_table_names())
        command.downgrade(alembic_config(blank_url), "0013")
        engine.dispose()
        assert "double_admissions" not in set(inspect(engine).get_table_names())
        assert "tier_id" not in {c["name"] for c in inspect(engine).get_columns("check_ins")}
        upgrade(blank_url, "0014")
        engine.dispose()
        assert "ix_tickets_tier_valid" in {
            i["name"] for i in inspect(engine).get_indexes("tickets")
        }
    finally:
        engine.dispose()
