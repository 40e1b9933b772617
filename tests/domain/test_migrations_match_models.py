"""The migrations build exactly the schema the models describe: a column, index or constraint
added to one and not the other fails here, not in production."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.db import make_engine
from app.domain.models import metadata


def test_the_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = make_engine(database_url, pool_size=1)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": False}
            )
            differences = [d for d in _flat(compare_metadata(context, metadata)) if not _foreign(d)]
    finally:
        engine.dispose()
    assert differences == [], "\n".join(map(repr, differences))


def _flat(diffs: list) -> list:  # noqa: ANN001 - alembic's diff tuples (or lists of them)
    return [d for group in diffs for d in (group if isinstance(group, list) else [group])]


def _foreign(diff: tuple) -> bool:
    """Tables the app does not model: pgqueuer's own (made by its migration)."""
    names = {getattr(part, "name", "") for part in diff if not isinstance(part, str)}
    tables = {getattr(getattr(part, "table", None), "name", "") for part in diff}
    return any(str(n).startswith("pgqueuer") for n in names | tables)
