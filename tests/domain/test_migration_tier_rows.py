"""Migration 0007 on a database that already has seat maps: their tier rows are built from the
seats as they are (free, sold, blocked, wheelchair), and the migration goes down and up again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import MetaData, Table, text
from sqlalchemy.orm import Session

from app.db import make_engine
from app.domain.accounts.models import Role
from app.domain.base import utcnow
from app.domain.events.models import EventStatus, EventType
from app.domain.ticketing.models import TicketTier, Unit
from app.migrate import alembic_config, upgrade


def insert_then(session: Session, table: str, **values: object) -> int:
    """Insert a row into `table` as the database has it now; returns its id."""
    reflected = Table(table, MetaData(), autoload_with=session.connection())
    return session.execute(
        reflected.insert().values(**values).returning(reflected.c.id)
    ).scalar_one()


def seat_map_before_0007(session: Session) -> int:
    # Users too as their table was then (later migrations add columns to it).
    organizer_id = insert_then(
        session, "users", email="o@example.test", name="O", role=Role.ORGANIZER.value,
        preferences={}, created_at=utcnow(),
    )  # fmt: skip
    starts = utcnow() + timedelta(days=30)
    # Events and bookings as their tables were then (later migrations add columns to them).
    event_id = insert_then(
        session,
        "events",
        organizer_id=organizer_id,
        title="Old show",
        slug="old-show",
        description="",
        event_type=EventType.OFFLINE.value,
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        timezone="UTC",
        tags=[],
        currency="USD",
        sold_count=0,
        status=EventStatus.PUBLISHED.value,
        is_seated=True,
        created_at=starts,
        updated_at=starts,
    )
    tier = TicketTier(event_id=event_id, name="Stalls", price_minor=1000, currency="USD")
    session.add(tier)
    session.flush()
    booking_id = insert_then(
        session,
        "bookings",
        reference="OLD00001",
        event_id=event_id,
        status="pending",
        quantity=1,
        total_minor=0,
        currency="USD",
        created_at=starts,
    )
    for x in range(6):  # Row A 1-6: seat 2 sold, 3 blocked, 4 a wheelchair space
        session.add(
            Unit(
                event_id=event_id,
                tier_id=tier.id,
                section="Stalls",
                row_label="A",
                seat_number=str(x + 1),
                grid_x=x,
                grid_y=0,
                seat_order=x,
                booking_id=booking_id if x == 1 else None,
                blocked=x == 2,
                accessible=x == 3,
            )
        )
    session.commit()
    return tier.id


def test_existing_seat_maps_get_their_tier_rows(blank_url: str) -> None:
    from alembic import command

    upgrade(blank_url, "0006")
    engine = make_engine(blank_url, pool_size=1)
    try:
        with Session(engine) as session:
            tier_id = seat_map_before_0007(session)
        upgrade(blank_url)
        row = (
            "SELECT section, row_label, free_x, free, max_run, centre_x2 FROM tier_rows"
            " WHERE tier_id = :t"
        )
        with engine.connect() as conn:
            assert conn.execute(text(row), {"t": tier_id}).one() == (
                "Stalls",
                "A",
                [0, 4, 5],
                3,
                2,
                5,
            )
        command.downgrade(alembic_config(blank_url), "0006")
        upgrade(blank_url)
        with engine.connect() as conn:
            assert conn.execute(text(row), {"t": tier_id}).one()[2] == [0, 4, 5]
    finally:
        engine.dispose()
