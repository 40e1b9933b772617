"""The per-process cache of event details and categories (app/web/public/hot_reads.py).

Two app instances on one database stand for two web processes: each has its own LISTEN
connection and its own cache. A change made anywhere announces itself in its transaction;
the other instance's next read after the notification arrived is fresh. A change made behind
the ORM's back (raw SQL, announcing nothing) shows the cache is really used; availability is
never cached; and with the LISTEN connection down, entries end with their time to live.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session

from app import create_app
from app.db import Database
from app.domain.accounts.models import Role, User
from app.domain.accounts.profile import update_details
from app.domain.accounts.suspension import suspend
from app.domain.events.categories import rename_category
from app.domain.events.changes import ALL_CATEGORIES, CATEGORIES, DETAILS
from app.domain.events.models import Category, Event, Speaker
from app.domain.ticketing.allocation import hold_tier
from app.live import LiveHub
from app.web.public.hot_reads import HotReads
from tests.conftest import _stop_live_listener, _test_config

NOTIFIED_WITHIN = 30.0  # seconds: a bound for waits that end as soon as their condition holds


@pytest.fixture
def processes(database_url: str, tmp_path: Path) -> Iterator[tuple[Flask, Flask]]:
    apps = tuple(
        create_app(
            _test_config(
                database_url,
                tmp_path / name,
                EVENT_CACHE_SECONDS=3600,
                DB_POOL_SIZE=4,
                # Every change notifies in its own transaction, none later from a timer: a
                # notification of the setup must not arrive in the middle of a test.
                AVAILABILITY_NOTIFY_INTERVAL_MS=0,
            )
        )
        for name in ("one", "two")
    )
    yield apps  # type: ignore[misc]
    for application in apps:
        _stop_live_listener(application)
        application.extensions["db"].engine.dispose()


def page(application: Flask, event: Event) -> str:
    response = application.test_client().get(f"/events/{event.id}-{event.slug}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def listening(application: Flask, event: Event) -> None:
    """Read the page once (starting the listener) and once more, cached, once it listens."""
    page(application, event)
    assert application.extensions["live_hub"].listening.wait(NOTIFIED_WITHIN)
    page(application, event)


@contextmanager
def notified(application: Flask, key: tuple[str, int]) -> Iterator[None]:
    """Wait, after the block, until the app's listener heard about `key`."""
    channel, number = key
    with application.extensions["live_hub"].subscribe(number, channel) as subscription:
        yield
        assert subscription.wait(NOTIFIED_WITHIN), f"no notification on {key}"


def behind_the_orms_back(db: Session, sql: str, **params: Any) -> None:
    with db.get_bind().connect() as conn:
        conn.execute(text(sql), params)
        conn.commit()


@pytest.fixture
def tier(db: Session, make_tier: Callable[..., Any], make_category: Callable[..., Category]) -> Any:
    tier = make_tier(capacity=5)
    tier.event.category = make_category(name="Jazz")
    db.commit()
    return tier


@pytest.fixture
def event(tier: Any) -> Event:
    return tier.event


def test_an_event_changed_in_one_process_is_fresh_in_the_other(
    processes: tuple[Flask, Flask], db: Session, event: Event
) -> None:
    one, two = processes
    for application in processes:
        listening(application, event)
    behind_the_orms_back(db, "UPDATE events SET title = 'Unannounced' WHERE id = :id", id=event.id)
    assert event.title in page(two, event) and "Unannounced" not in page(two, event)  # cached

    with notified(two, (DETAILS, event.id)):  # the change is made by the other process
        session = one.extensions["db"].session()
        changed = session.get(Event, event.id)
        changed.title = "Late night jazz"
        changed.speakers.append(Speaker(name="Nina Keys", position=0))
        session.commit()
        session.close()
    html = page(two, event)
    assert "Late night jazz" in html and "Nina Keys" in html


def test_availability_is_never_cached(
    processes: tuple[Flask, Flask],
    db: Session,
    tier: Any,
    make_user: Callable[..., User],
    now: Any,
) -> None:
    _, two = processes
    event = tier.event
    listening(two, event)
    assert "5 left" in page(two, event)
    hold_tier(
        db,
        user=make_user(),
        event_id=event.id,
        tier_id=tier.id,
        quantity=2,
        now=now,
        hold_minutes=10,
    )
    db.commit()
    assert "3 left" in page(two, event)  # at once: no notification awaited


def test_category_and_organizer_changes_reach_the_pages(
    processes: tuple[Flask, Flask],
    db: Session,
    event: Event,
    make_user: Callable[..., User],
    now: Any,
) -> None:
    _, two = processes
    listening(two, event)
    assert "Jazz" in two.test_client().get("/events").get_data(as_text=True)
    admin = make_user(role=Role.ADMIN)
    with notified(two, (CATEGORIES, ALL_CATEGORIES)):
        rename_category(db, event.category, "Jazz and blues", admin=admin, now=now)
        db.commit()
    assert "Jazz and blues" in two.test_client().get("/events").get_data(as_text=True)
    assert "Jazz and blues" in page(two, event)  # the event page names its category too

    with notified(two, (DETAILS, event.id)):
        update_details(db, event.organizer, name="Renamed Organizer", phone="")
        event.organizer.organization_name = None
        db.commit()
    assert "Renamed Organizer" in page(two, event)


def test_a_suspended_organizers_event_leaves_every_process(
    processes: tuple[Flask, Flask],
    db: Session,
    event: Event,
    make_user: Callable[..., User],
    now: Any,
) -> None:
    _, two = processes
    listening(two, event)
    with notified(two, (DETAILS, event.id)):  # a bulk UPDATE, announced by its caller
        suspend(db, event.organizer_id, admin=make_user(role=Role.ADMIN), reason="Spam", now=now)
        db.commit()
    assert two.test_client().get(f"/events/{event.id}-{event.slug}").status_code == 404


def test_without_a_listener_entries_end_with_their_time_to_live(
    app: Flask, db: Session, event: Event
) -> None:
    clock = [0.0]
    # A hub that never reaches its database: no notification ever arrives.
    hub = LiveHub("postgresql://127.0.0.1:1/nowhere?connect_timeout=1", reconnect_seconds=0.05)
    database: Database = app.extensions["db"]
    reads = HotReads(hub, database, seconds=30, timer=lambda: clock[0])
    try:
        assert reads.event(event.id).title == event.title
        behind_the_orms_back(db, "UPDATE events SET title = 'Changed' WHERE id = :id", id=event.id)
        clock[0] = 29.0
        assert reads.event(event.id).title == event.title  # still within its time to live
        clock[0] = 31.0
        assert reads.event(event.id).title == "Changed"
    finally:
        hub.close()
