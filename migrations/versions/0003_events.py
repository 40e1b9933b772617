"""Events additions: the search-vector trigger and the indexes behind public listings.

`events.search_vector` is kept by a trigger (so bulk COPY loads are indexed too): title
weighted A, tags B, the plain text of the Markdown description C, English configuration.
Public listings only ever read published events, so their sort/filter indexes are partial.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PUBLISHED = "status = 'published'"


def upgrade() -> None:
    # Markdown to indexable text: drop link/image targets and HTML tags, keep the words.
    op.execute(
        r"""
        CREATE FUNCTION events_markdown_plain(src text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT regexp_replace(
                regexp_replace(coalesce(src, ''), '\]\([^)]*\)', '] ', 'g'),
                '<[^>]*>', ' ', 'g')
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION events_search_vector_update() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            NEW.search_vector :=
                setweight(to_tsvector('english', coalesce(NEW.title, '')), 'A')
                || setweight(to_tsvector('english', array_to_string(NEW.tags, ' ')), 'B')
                || setweight(to_tsvector('english', events_markdown_plain(NEW.description)), 'C');
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER events_search_vector BEFORE INSERT OR UPDATE OF title, tags, description
        ON events FOR EACH ROW EXECUTE FUNCTION events_search_vector_update()
        """
    )
    op.execute("UPDATE events SET title = title")

    op.create_index(
        "ix_events_published_category",
        "events",
        ["category_id", "starts_at"],
        postgresql_where=PUBLISHED,
    )
    op.execute(
        f"CREATE INDEX ix_events_published_city ON events (lower(city), starts_at) WHERE {PUBLISHED}"
    )
    op.create_index(
        "ix_events_published_price",
        "events",
        ["min_price_minor", "starts_at"],
        postgresql_where=PUBLISHED,
    )
    op.execute(
        "CREATE INDEX ix_events_published_popular ON events (sold_count DESC, starts_at) "
        f"WHERE {PUBLISHED}"
    )
    op.execute(
        f"CREATE INDEX ix_events_published_newest ON events (published_at DESC) WHERE {PUBLISHED}"
    )
    op.create_index(
        "ix_events_moderation_queue",
        "events",
        ["submitted_at"],
        postgresql_where="status = 'submitted'",
    )
    op.create_index(
        "ix_event_reports_open",
        "event_reports",
        ["created_at"],
        postgresql_where="status = 'open'",
    )
    # One open report per reporter and event: repeating a report adds nothing to the queue.
    op.create_index(
        "uq_event_reports_open_reporter",
        "event_reports",
        ["event_id", "reporter_id"],
        unique=True,
        postgresql_where="status = 'open'",
    )


def downgrade() -> None:
    for name in (
        "uq_event_reports_open_reporter",
        "ix_event_reports_open",
        "ix_events_moderation_queue",
        "ix_events_published_newest",
        "ix_events_published_popular",
        "ix_events_published_price",
        "ix_events_published_city",
        "ix_events_published_category",
    ):
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute("DROP TRIGGER IF EXISTS events_search_vector ON events")
    op.execute("DROP FUNCTION IF EXISTS events_search_vector_update()")
    op.execute("DROP FUNCTION IF EXISTS events_markdown_plain(text)")
