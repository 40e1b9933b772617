"""The flush hook that announces changed event details and categories (events/changes.py):
what it announces, and that a booking, an unrelated user change or a rolled-back change
announce nothing (a NOTIFY costs a commit the database-wide lock: the rush must not pay it).

`heard()` ends at a marker notification sent after everything else (PostgreSQL delivers in
commit order), so nothing here waits for a silence. The coalescing window is 0: every change
notifies in its own transaction, none from a timer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy.orm import Session

from app.db import libpq_url
from app.domain import live_notify
from app.domain.accounts.models import User
from app.domain.events.changes import CATEGORIES, DETAILS
from app.domain.events.models import Category, Event, Speaker
from app.domain.ticketing.allocation import hold_tier

MARKER = "end-of-test-notifications"  # not an id: live listeners ignore it
Heard = Callable[[], list[tuple[str, str]]]


@pytest.fixture
def heard(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Heard]:
    monkeypatch.setattr(live_notify._coalescer, "interval", 0.0)
    url = libpq_url(app.extensions["db"].url)
    conn = psycopg.connect(url, autocommit=True)
    conn.execute(f"LISTEN {DETAILS}")
    conn.execute(f"LISTEN {CATEGORIES}")

    def collect() -> list[tuple[str, str]]:
        with psycopg.connect(url, autocommit=True) as sender:
            sender.execute("SELECT pg_notify(%s, %s)", (DETAILS, MARKER))
        notes = []
        for note in conn.notifies(timeout=60):
            if note.payload == MARKER:
                return notes
            notes.append((note.channel, note.payload))
        raise AssertionError(f"the marker notification never came; heard {notes}")

    yield collect
    conn.close()


@pytest.fixture
def event(db: Session, make_event: Callable[..., Event], heard: Heard) -> Event:
    event = make_event()
    db.commit()
    heard()  # forget the creation
    return event


def test_an_edited_event_and_its_speakers_are_announced(
    db: Session, event: Event, heard: Heard
) -> None:
    event.title = "Renamed"
    db.commit()
    assert heard() == [(DETAILS, str(event.id))]
    event.speakers.append(Speaker(name="Nina Keys", position=0))
    db.commit()
    assert heard() == [(DETAILS, str(event.id))]
    db.delete(event.speakers[0])
    db.commit()
    assert heard() == [(DETAILS, str(event.id))]


def test_categories_are_announced_as_a_list(
    db: Session, event: Event, heard: Heard, make_category: Callable[..., Category]
) -> None:
    category = make_category(name="Jazz")
    db.commit()
    assert heard() == [(CATEGORIES, "0")]
    category.name = "Jazz and blues"
    db.commit()
    assert heard() == [(CATEGORIES, "0")]


def test_an_organizers_shown_name_announces_each_of_their_events(
    db: Session, event: Event, heard: Heard, make_event: Callable[..., Event], now: Any
) -> None:
    other = make_event(organizer=event.organizer)
    db.commit()
    heard()
    event.organizer.last_login_at = now  # not shown on their pages
    db.commit()
    assert heard() == []
    event.organizer.organization_name = "Night Owls Ltd"
    db.commit()
    assert sorted(heard()) == sorted([(DETAILS, str(event.id)), (DETAILS, str(other.id))])


def test_bookings_and_rolled_back_changes_announce_nothing(
    db: Session,
    heard: Heard,
    make_tier: Callable[..., Any],
    make_user: Callable[..., User],
    now: Any,
) -> None:
    tier = make_tier(capacity=5)
    buyer = make_user()
    db.commit()
    heard()
    hold_tier(
        db,
        user=buyer,
        event_id=tier.event_id,
        tier_id=tier.id,
        quantity=2,
        now=now,
        hold_minutes=10,
    )
    db.commit()
    tier.event.title = "Never saved"
    db.flush()
    db.rollback()
    assert heard() == []
