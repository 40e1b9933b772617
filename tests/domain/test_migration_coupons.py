"""Migration 0011 on a database with bookings: they carry no coupon and no discount, codes
are upper-case and unique per event, and it goes down (coupons and the booking columns gone)
and up again."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.db import make_engine
from app.migrate import alembic_config, upgrade

_BEFORE_0011 = """
INSERT INTO users (id, email, name, role, created_at, preferences)
VALUES (1, 'b@example.test', 'B', 'attendee', now(), '{}');
INSERT INTO events (id, organizer_id, title, slug, description, event_type, starts_at, ends_at,
                    timezone, tags, status, is_seated, currency, sold_count, created_at,
                    updated_at, version)
VALUES (1, 1, 'Old', 'old', '', 'online', now() + interval '9 days',
        now() + interval '10 days', 'UTC', '{}', 'published', false, 'USD', 0, now(), now(), 1);
INSERT INTO bookings (id, reference, user_id, event_id, status, quantity, total_minor, currency,
                      created_at)
VALUES (1, 'OLDPAID1', 1, 1, 'confirmed', 2, 5000, 'USD', now());
"""

_COUPON = """
INSERT INTO coupons (event_id, code, kind, percent_off, currency, created_at)
VALUES (1, :code, 'percent', 10, 'USD', now())
"""


def test_0011_adds_coupons_and_goes_down_and_up(blank_url: str) -> None:
    upgrade(blank_url, "0010")
    engine = make_engine(blank_url, pool_size=1)
    try:
        with engine.begin() as conn:
            for statement in _BEFORE_0011.split(";"):
                if statement.strip():
                    conn.execute(text(statement))
        upgrade(blank_url, "0011")
        with engine.begin() as conn:
            row = conn.execute(
                text("SELECT coupon_id, discount_minor, total_minor FROM bookings")
            ).one()
            assert tuple(row) == (None, 0, 5000)
            conn.execute(text(_COUPON), {"code": "SAVE10"})
            coupon = conn.execute(text("SELECT min_quantity, active FROM coupons")).one()
            assert tuple(coupon) == (1, True)
            conn.execute(text("UPDATE bookings SET coupon_id = (SELECT id FROM coupons)"))
        for code, constraint in (("save10", "ck_coupons_code_upper_case"), ("SAVE10", "uq_")):
            with pytest.raises(IntegrityError, match=constraint), engine.begin() as conn:
                conn.execute(text(_COUPON), {"code": code})
        negative = pytest.raises(IntegrityError, match="ck_bookings_discount_not_negative")
        with negative, engine.begin() as conn:
            conn.execute(text("UPDATE bookings SET discount_minor = -1"))
        command.downgrade(alembic_config(blank_url), "0010")
        with engine.connect() as conn:
            columns = conn.scalars(
                text(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = 'bookings' "
                    "AND column_name IN ('coupon_id', 'discount_minor')"
                )
            ).all()
            assert columns == []
            assert conn.scalar(text("SELECT to_regclass('coupons')")) is None
            assert conn.scalar(text("SELECT total_minor FROM bookings")) == 5000
        upgrade(blank_url, "0011")
    finally:
        engine.dispose()
