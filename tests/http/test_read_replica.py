"""DATABASE_REPLICA_URL: the listing and search read the replica; the event page, availability
and booking read and write the primary only. The "replica" here is a second database with the
same schema and none of the primary's rows, so a page that read it could not show them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy
from flask import Flask
from sqlalchemy import Engine, event, select, text

from app.domain.ticketing.models import Booking
from tests import pg
from tests.conftest import _stop_live_listener, _test_config

TITLE = "Harbour Lights Replica Check"


@pytest.fixture(scope="module")
def replica_url() -> Iterator[str]:
    url = pg.create_test_database()
    yield url
    pg.drop_test_database(url)


@pytest.fixture(scope="module")
def app(
    database_url: str, replica_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    from app import create_app

    config = _test_config(
        database_url, tmp_path_factory.mktemp("instance"), DATABASE_REPLICA_URL=replica_url
    )
    application = create_app(config)
    yield application
    _stop_live_listener(application)
    application.extensions["db"].engine.dispose()
    application.extensions["db_replica"].engine.dispose()


class Statements:
    """The statements an engine ran, from now on."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.seen = engine, []
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, _conn, _cursor, statement: str, *_args: object) -> None:  # noqa: ANN001
        self.seen.append(statement)

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)


@pytest.fixture
def on_replica(app: Flask) -> Iterator[Statements]:
    statements = Statements(app.extensions["db_replica"].engine)
    yield statements
    statements.close()


@pytest.fixture
def concert(db, make_tier):
    tier = make_tier(capacity=5, event=None)
    tier.event.title = TITLE
    db.commit()
    return tier


def test_the_listing_search_and_home_page_read_the_replica(client, concert, on_replica) -> None:
    for url in ("/events", "/events?q=Harbour", "/", "/api/v1/events", "/api/v1/events?q=Harbour"):
        on_replica.seen.clear()
        response = client.get(url)
        assert response.status_code == 200, url
        assert TITLE not in response.get_data(as_text=True), url  # only the primary has it
        assert any(s.lstrip().upper().startswith("SELECT") for s in on_replica.seen), url


def test_the_event_page_availability_and_booking_use_the_primary(
    db, client, concert, make_user, login_as, on_replica
) -> None:
    event_id = concert.event_id
    page = client.get(f"/events/{event_id}", follow_redirects=True)
    assert TITLE in page.get_data(as_text=True)
    assert client.get(f"/api/v1/events/{event_id}").json["title"] == TITLE
    tiers = client.get(f"/api/v1/events/{event_id}/tiers").json
    assert [(t["id"], t["remaining"]) for t in tiers["tiers"]] == [(concert.id, 5)]
    login_as(client, make_user())
    response = client.post(f"/events/{event_id}/book", data={"tier_id": concert.id, "quantity": 2})
    assert response.status_code == 303
    assert db.scalars(select(Booking)).one().event_id == event_id
    assert on_replica.seen == []


def test_the_replica_connection_refuses_to_write(app: Flask) -> None:
    replica = app.extensions["db_replica"]
    with (
        replica.session() as session,
        pytest.raises(sqlalchemy.exc.InternalError, match="read-only"),
    ):
        session.execute(text("CREATE TABLE never_here (id int)"))
