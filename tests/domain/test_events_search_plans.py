"""At a realistic volume the listing queries are answered from indexes (see also the bench)."""

from __future__ import annotations

from app.commands.generate import generate_events
from app.domain.base import utcnow
from app.domain.events.search import page_statement, parse_search_args, search_conditions


def plan(db, query: dict[str, str]) -> str:  # noqa: ANN001
    params, notices = parse_search_args(query)
    conditions, text_query = search_conditions(
        db, params, now=utcnow(), zone="UTC", notices=notices
    )
    compiled = page_statement(conditions, text_query, params).compile(dialect=db.bind.dialect)
    rows = db.connection().exec_driver_sql("EXPLAIN " + str(compiled), compiled.params)
    return "\n".join(row[0] for row in rows)


EXPECTED = (
    ({"q": "jaz"}, "ix_events_search"),
    ({"city": "Berlin"}, "ix_events_published_city"),
    ({"sort": "popular"}, "ix_events_published_popular"),
    ({"sort": "newest"}, "ix_events_published_newest"),
    ({"price": "paid", "sort": "price"}, "ix_events_published_price"),
    ({"when": "weekend"}, "ix_events_status_starts_at"),
    ({}, "ix_events_status_starts_at"),
)


def test_listing_plans_use_indexes_at_10000_events(db) -> None:  # noqa: ANN001
    generate_events(db, 10_000, now=utcnow(), seed=3, with_units=False)
    for query, index in EXPECTED:
        text = plan(db, query)
        assert index in text, text
        assert "Seq Scan" not in text, text
