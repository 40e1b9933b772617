"""Keyset pages of the public event search (the API's cursor pagination).

A page starts after the sort key of the last event of the previous page, so paging never
repeats or skips an event because others were added or went away meanwhile (offset pages do).
The filters and orders are the search page's (`search_conditions`, `sort_keys`: the event's
id last, so every key is unique). The cursor carries the key, signed with the app's
secret and bound to the search it came from: a cursor that was altered, or is sent with other
filters, is refused rather than read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session

from app.domain.base import DomainError
from app.domain.events.models import Event
from app.domain.events.search import SearchParams, SortKey, search_conditions, sort_keys

LIMIT_DEFAULT = 20
LIMIT_MAX = 100
_SALT = "api-event-cursor"


class BadSearch(DomainError):
    """A search the API cannot honour as asked (answered with 400): an unknown filter value,
    or a cursor that is not one of ours or belongs to another search."""

    code = "bad_search"


def bad_cursor(
    message: str = "That cursor is not valid; start again from the first page.",
) -> BadSearch:
    return BadSearch(message, code="bad_cursor")


@dataclass(frozen=True)
class KeysetPage:
    events: list[Event]
    cursor: str | None  # the next page's, when there is one


def search_page(
    session: Session,
    params: SearchParams,
    *,
    secret: str,
    cursor: str | None,
    limit: int,
    now: datetime,
    zone: str,
) -> KeysetPage:
    """Up to `limit` published, not yet ended events matching `params`, after `cursor`."""
    notices: list[str] = []
    conditions, query = search_conditions(session, params, now=now, zone=zone, notices=notices)
    if notices:
        raise BadSearch(" ".join(notices))
    keys = sort_keys(params.effective_sort, query)
    serializer = URLSafeSerializer(secret, salt=_SALT)
    fingerprint = _fingerprint(params)
    after = None if cursor is None else _read_cursor(serializer, cursor, fingerprint, keys)
    rows = session.execute(page_statement(conditions, keys, after, limit)).all()
    page, more = rows[:limit], len(rows) > limit
    next_cursor = None
    if more:
        values = [_dump(value) for value in page[-1][1:]]
        next_cursor = serializer.dumps({"f": fingerprint, "k": values})
    return KeysetPage(events=[row[0] for row in page], cursor=next_cursor)


def page_statement(
    conditions: list[ColumnElement],
    keys: Sequence[SortKey],
    after: Sequence[object] | None,
    limit: int,
) -> Select:
    """The events after `after` (from the first when None), with their keys: one more than
    `limit`, which tells whether another page follows."""
    where = [*conditions, _after(keys, after)] if after is not None else conditions
    stmt = select(Event, *(key.expr for key in keys)).where(*where)
    return stmt.order_by(*(key.order for key in keys)).limit(limit + 1)


def _fingerprint(params: SearchParams) -> str:
    search = json.dumps(params.query_args(page=1), sort_keys=True, default=str)
    return hashlib.sha256(search.encode()).hexdigest()[:16]


def _after(keys: Sequence[SortKey], values: Sequence[object]) -> ColumnElement:
    """Rows after `values` in the order of `keys`: (k1 beyond v1) or (k1 = v1 and k2 beyond
    v2) or ..."""
    branches = []
    for index, key in enumerate(keys):
        same = [keys[j].equal(values[j]) for j in range(index)]
        branches.append(and_(*same, key.beyond(values[index])))
    return or_(*branches)


def _dump(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def _read_cursor(
    serializer: URLSafeSerializer, cursor: str, fingerprint: str, keys: Sequence[SortKey]
) -> list[object]:
    try:
        data = serializer.loads(cursor)
    except BadSignature:
        raise bad_cursor() from None
    if not isinstance(data, dict) or data.get("f") != fingerprint:
        raise bad_cursor("That cursor belongs to another search; start again from the first page.")
    values = data.get("k")
    if not isinstance(values, list) or len(values) != len(keys):
        raise bad_cursor()
    try:
        return [_load(key, value) for key, value in zip(keys, values, strict=True)]
    except (TypeError, ValueError):
        raise bad_cursor() from None


def _load(key: SortKey, value: object) -> object:
    if value is None and key.nullable:
        return None
    if key.kind is datetime and isinstance(value, str):
        return datetime.fromisoformat(value)
    if key.kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if key.kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise ValueError(value)
