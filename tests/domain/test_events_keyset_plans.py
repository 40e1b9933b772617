"""At a realistic volume the API's keyset pages (app/domain/events/keyset.py), first and later
ones, are answered from the search page's indexes."""

from __future__ import annotations

from app.commands.generate import generate_events
from app.domain.base import utcnow
from app.domain.events.keyset import page_statement, sort_keys
from app.domain.events.search import parse_search_args, search_conditions

EXPECTED = (
    ({"sort": "popular"}, "ix_events_published_popular"),
    ({"sort": "newest"}, "ix_events_published_newest"),
    ({"price": "paid", "sort": "price"}, "ix_events_published_price"),
    ({}, "ix_events_status_starts_at"),
)


def test_keyset_pages_use_indexes_at_10000_events(db) -> None:  # noqa: ANN001
    generate_events(db, 10_000, now=utcnow(), seed=3, with_units=False)
    for query, index in EXPECTED:
        params, notices = parse_search_args(query)
        conditions, text_query = search_conditions(
            db, params, now=utcnow(), zone="UTC", notices=notices
        )
        keys = sort_keys(params.effective_sort, text_query)
        first = db.execute(page_statement(conditions, keys, None, 20)).all()
        after = list(first[-1][1:])
        for values in (None, after):
            compiled = page_statement(conditions, keys, values, 20).compile(dialect=db.bind.dialect)
            rows = db.connection().exec_driver_sql("EXPLAIN " + str(compiled), compiled.params)
            text = "\n".join(row[0] for row in rows)
            assert index in text, (query, values, text)
            assert "Seq Scan" not in text, (query, values, text)
