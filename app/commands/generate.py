"""`flask demo generate --events 10000`: realistic data at scale, for benchmarks and demos.

Rows go in with COPY (events, tiers) and one INSERT ... SELECT (general-admission units),
so 10,000 events take seconds. The search-vector trigger indexes every copied event. Events
get organizers (generated ones, who cannot log in), categories, 1-3 tiers each with their
units (for published events only: nobody books the others), `min_price_minor` and a
`sold_count` (a popularity figure for sorting: the units themselves are all left on sale).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import click
from flask import current_app
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.commands.event_corpus import CITIES, STREETS, THEMES, VENUES, description_for, title_for
from app.domain.base import utcnow
from app.domain.events.editing import slugify

ORGANIZERS = 25
# (status, share) for events that have not ended; ended ones are completed.
STATUS_MIX = (
    ("published", 0.88),
    ("draft", 0.04),
    ("submitted", 0.03),
    ("rejected", 0.01),
    ("cancelled", 0.04),
)
EVENT_COLUMNS = (
    "id", "organizer_id", "title", "slug", "description", "event_type", "venue_name",
    "address", "city", "online_url", "starts_at", "ends_at", "timezone", "category_id", "tags",
    "status", "rejection_reason", "is_seated", "min_price_minor", "currency", "sold_count",
    "submitted_at", "published_at", "created_at", "updated_at",
)  # fmt: skip
TIER_COLUMNS = (
    "event_id", "name", "kind", "description", "price_minor", "currency", "capacity",
    "min_per_order", "max_per_order", "hidden", "position", "created_at",
)  # fmt: skip
STATUS = EVENT_COLUMNS.index("status")
ZERO_DECIMAL = {"JPY"}


@dataclass(frozen=True)
class Generated:
    events: int
    tiers: int
    units: int
    seconds: float


def _ensure_categories(session: Session) -> dict[str, int]:
    for theme in THEMES:
        session.execute(
            text(
                "INSERT INTO categories (name, slug) VALUES (:name, :slug) ON CONFLICT DO NOTHING"
            ),
            {"name": theme.category, "slug": slugify(theme.category)},
        )
    rows = session.execute(text("SELECT name, id FROM categories"))
    return {name: category_id for name, category_id in rows}


def _ensure_organizers(session: Session, now: datetime) -> list[int]:
    """Generated organizers: no password, so nobody can sign in as them."""
    for n in range(1, ORGANIZERS + 1):
        session.execute(
            text(
                "INSERT INTO users (email, name, role, organization_name, email_verified_at,"
                " preferences, created_at) VALUES (:email, :name, 'organizer', :org, :now,"
                " '{}', :now) ON CONFLICT DO NOTHING"
            ),
            {
                "email": f"generated-organizer-{n}@example.test",
                "name": f"Generated Organizer {n}",
                "org": f"{random.Random(n).choice(THEMES).category} Collective {n}",
                "now": now,
            },
        )
    return list(
        session.scalars(
            text("SELECT id FROM users WHERE email LIKE 'generated-organizer-%@example.test'")
        )
    )


def _status(rng: random.Random, ends_at: datetime, now: datetime) -> str:
    if ends_at <= now:
        return "completed" if rng.random() < 0.95 else "cancelled"
    roll = rng.random()
    for status, share in STATUS_MIX:
        if roll < share:
            return status
        roll -= share
    return "published"


def _event_rows(
    rng: random.Random, ids: list[int], organizers: list[int], categories: dict[str, int], now
) -> tuple[list[tuple], list[tuple]]:
    events, tiers = [], []
    for event_id in ids:
        theme = rng.choice(THEMES)
        city, zone, currency = rng.choice(CITIES)
        event_type = rng.choices(("offline", "online", "hybrid"), weights=(70, 18, 12))[0]
        in_person = event_type != "online"
        title, topic, fmt = title_for(rng, theme, city if in_person else None)
        tags = rng.sample(theme.tags, rng.randint(1, 3))
        # Mostly upcoming, some past: -60 to +240 days, at a plausible local hour.
        starts_at = (now + timedelta(days=rng.randint(-60, 240))).replace(
            hour=rng.choice((7, 9, 12, 16, 17, 18)), minute=rng.choice((0, 0, 30)), second=0
        )
        ends_at = starts_at + timedelta(hours=rng.choice((1, 2, 2, 3, 4, 8, 26)))
        status = _status(rng, ends_at, now)
        created = starts_at - timedelta(days=rng.randint(20, 120))
        published = status in ("published", "cancelled", "completed")
        event_tiers = _tier_rows(rng, event_id, theme.price_range, currency, created)
        prices = [tier[4] for tier in event_tiers]
        events.append(
            (
                event_id,
                rng.choice(organizers),
                title,
                slugify(title),
                description_for(rng, topic, fmt, tags),
                event_type,
                f"{city} {rng.choice(VENUES)}" if in_person else None,
                f"{rng.randint(1, 240)} {rng.choice(STREETS)}" if in_person else None,
                city if in_person else None,
                f"https://meet.example.com/{slugify(title)}-{event_id}" if not in_person else None,
                starts_at,
                ends_at,
                zone,
                categories[theme.category],
                tags,
                status,
                "Please add the full venue address." if status == "rejected" else None,
                False,
                min(prices) if prices else None,
                currency,
                min(int(rng.paretovariate(1.2) * 5), 2000) if published else 0,
                created + timedelta(days=1) if status != "draft" else None,
                created + timedelta(days=2) if published else None,
                created,
                created,
            )
        )
        tiers.extend(event_tiers)
    return events, tiers


def _tier_rows(
    rng: random.Random, event_id: int, price_range: tuple[int, int], currency: str, created
) -> list[tuple]:
    if rng.random() < 0.08:
        return []  # tickets not set up yet
    scale = 1 if currency in ZERO_DECIMAL else 100
    low, high = price_range
    free = low == 0 and rng.random() < 0.5 or rng.random() < 0.15
    base = 0 if free else rng.randint(max(low, 1), high) * scale
    names = ("Free entry",) if free else ("Early bird", "Standard", "VIP")
    rows = []
    for position, name in enumerate(names[: rng.randint(1, len(names))]):
        price = int(base * (1, 1.4, 2.5)[position])
        kind = "free" if price == 0 else ("vip" if name == "VIP" else "paid")
        capacity = rng.choice((10, 15, 20, 25, 30, 50))
        rows.append(
            (event_id, name, kind, "", price, currency, capacity, 1, 10, False, position, created)
        )
    return rows


def generate_events(
    session: Session, count: int, *, now: datetime, seed: int = 42, with_units: bool = True
) -> Generated:
    """Add `count` events (with organizers, categories, tiers, units) in the caller's
    transaction; the caller commits."""
    started = time.perf_counter()
    rng = random.Random(seed)
    categories = _ensure_categories(session)
    organizers = _ensure_organizers(session, now)
    ids = list(
        session.scalars(
            text("SELECT nextval('events_id_seq') FROM generate_series(1, :n)"), {"n": count}
        )
    )
    events, tiers = _event_rows(rng, ids, organizers, categories, now)
    cursor = session.connection().connection.driver_connection.cursor()
    with cursor.copy(f"COPY events ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
        for row in events:
            copy.write_row(row)
    with cursor.copy(f"COPY ticket_tiers ({', '.join(TIER_COLUMNS)}) FROM STDIN") as copy:
        for row in tiers:
            copy.write_row(row)
    units = 0
    if with_units:
        units = session.execute(
            text(
                "INSERT INTO units (event_id, tier_id, seat_order, blocked, accessible)"
                " SELECT t.event_id, t.id, g, false, false FROM ticket_tiers t,"
                " generate_series(1, t.capacity) AS g WHERE t.event_id = ANY(:published)"
            ),
            {"published": [row[0] for row in events if row[STATUS] == "published"]},
        ).rowcount
    session.execute(text("ANALYZE events"))
    session.execute(text("ANALYZE ticket_tiers"))
    return Generated(len(events), len(tiers), units, time.perf_counter() - started)


@click.command("generate")
@click.option("--events", "count", default=10000, show_default=True, type=click.IntRange(1))
@click.option("--seed", default=42, show_default=True, help="Same seed, same data.")
@click.option("--units/--no-units", default=True, show_default=True, help="Create GA units.")
def generate_command(count: int, seed: int, units: bool) -> None:
    """Generate COUNT events with organizers, categories, tiers and units."""
    with current_app.extensions["db"].session() as session:
        result = generate_events(session, count, now=utcnow(), seed=seed, with_units=units)
        session.commit()
    click.echo(
        f"generated {result.events} events, {result.tiers} tiers, {result.units} units "
        f"in {result.seconds:.1f} s"
    )
