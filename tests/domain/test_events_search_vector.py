"""The search vector trigger: weighted title > tags > description, Markdown indexed as text."""

from __future__ import annotations

from sqlalchemy import select, text

from app.domain.events.models import Event, EventStatus


def test_factory_makes_a_published_event_with_an_organizer(make_event) -> None:  # noqa: ANN001
    event = make_event()
    assert event.id and event.status == EventStatus.PUBLISHED
    assert event.organizer.role == "organizer"


def test_trigger_weights_title_tags_and_plain_description(db, make_event) -> None:  # noqa: ANN001
    event = make_event(
        title="Jazz Night",
        tags=["swing"],
        description="Come **along**! [Tickets](https://example.com/secretpath) <b>bold</b>",
    )
    db.expire(event)
    vector = db.scalar(select(Event.search_vector).where(Event.id == event.id))
    assert "'jazz':1A" in vector
    assert "'swing':3B" in vector
    assert "'along'" in vector and "C" in vector.split("'along':")[1][:4]
    assert "secretpath" not in vector and "example.com" not in vector


def test_trigger_follows_updates(db, make_event) -> None:  # noqa: ANN001
    event = make_event(title="Old title")
    event.title = "Brand new"
    db.flush()
    found = db.scalar(
        select(Event.id).where(
            Event.search_vector.op("@@")(text("websearch_to_tsquery('english', 'brand')"))
        )
    )
    assert found == event.id
