"""Tier rows: the free seats of one price zone in one row, kept current by a trigger on units.

Best available claims a whole tier row (`FOR UPDATE SKIP LOCKED`) before it picks seats in it,
so concurrent buyers skip each other's rows instead of computing and colliding on the same
seats (app/domain/ticketing/best_seats.py). The trigger keeps each row's free positions
(`free_x`, sorted `grid_x` values of seats that best available may hand out) in step with
every change to units, wherever it comes from: claims, releases, expiry, seat map edits,
deleted tiers. An update of a seat changes the array in place (`array_remove`, a sorted
insert) in a row trigger, so a writer that waited for another's row lock applies its change to
the newest version of the row; inserts and deletes come in bulk (a layout) and are handled once
per statement.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A seat in a tier row: zoned and placed on the grid (every laid-out seat is).
_ROW_SEAT = "{r}.seat_number IS NOT NULL AND {r}.tier_id IS NOT NULL AND {r}.grid_x IS NOT NULL"
# One best available may hand out: free, not blocked, not a wheelchair space.
_SEAT_FREE = _ROW_SEAT + " AND {r}.booking_id IS NULL AND NOT {r}.blocked AND NOT {r}.accessible"

# New seats, grouped by tier row: rows are created, or their free positions extended.
_ADD_SEATS = f"""
    INSERT INTO tier_rows (event_id, tier_id, section, row_label, grid_y, free_x)
    SELECT u.event_id, u.tier_id, coalesce(u.section, ''), u.row_label,
           coalesce(min(u.grid_y), 0),
           coalesce(array_agg(u.grid_x ORDER BY u.grid_x)
                    FILTER (WHERE {_SEAT_FREE.format(r="u")}), '{{{{}}}}')
    FROM {{source}} u WHERE {_ROW_SEAT.format(r="u")}
    GROUP BY u.event_id, u.tier_id, coalesce(u.section, ''), u.row_label
    ON CONFLICT (tier_id, section, row_label) DO UPDATE SET
        grid_y = EXCLUDED.grid_y,
        free_x = ARRAY(SELECT DISTINCT x FROM unnest(tier_rows.free_x || EXCLUDED.free_x) AS x
                       ORDER BY x)
"""  # noqa: S608 - constants only

# Bulk inserts and deletes (a layout saved, an event deleted) go through statement triggers,
# once per statement rather than once per seat.
_STATEMENT_FUNCTIONS = f"""
CREATE FUNCTION units_add_tier_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_ADD_SEATS.format(source="added")};
    RETURN NULL;
END
$$;
CREATE FUNCTION units_remove_tier_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tier_rows t
    SET free_x = ARRAY(SELECT x FROM unnest(t.free_x) AS x WHERE x <> ALL(d.xs) ORDER BY x)
    FROM (SELECT tier_id, coalesce(section, '') AS section, row_label,
                 array_agg(grid_x) AS xs
          FROM removed u WHERE {_ROW_SEAT.format(r="u")}
          GROUP BY 1, 2, 3) AS d
    WHERE t.tier_id = d.tier_id AND t.section = d.section AND t.row_label = d.row_label;
    RETURN NULL;
END
$$
"""  # noqa: S608 - constants only

_SYNC_FUNCTION = f"""
CREATE FUNCTION units_sync_tier_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was_free boolean := {_SEAT_FREE.format(r="OLD")};
    is_free boolean := {_SEAT_FREE.format(r="NEW")};
    same_place boolean := OLD.tier_id IS NOT DISTINCT FROM NEW.tier_id
        AND coalesce(OLD.section, '') = coalesce(NEW.section, '')
        AND OLD.row_label IS NOT DISTINCT FROM NEW.row_label
        AND OLD.grid_x IS NOT DISTINCT FROM NEW.grid_x
        AND OLD.grid_y IS NOT DISTINCT FROM NEW.grid_y
        AND OLD.seat_number IS NOT DISTINCT FROM NEW.seat_number;
BEGIN
    IF same_place AND was_free = is_free THEN
        RETURN NULL;
    END IF;
    IF was_free THEN
        UPDATE tier_rows SET free_x = array_remove(free_x, OLD.grid_x)
        WHERE tier_id = OLD.tier_id AND section = coalesce(OLD.section, '')
          AND row_label = OLD.row_label;
        IF same_place THEN
            RETURN NULL;
        END IF;
    END IF;
    IF NOT ({_ROW_SEAT.format(r="NEW")}) THEN
        RETURN NULL;
    END IF;
    IF is_free THEN
        UPDATE tier_rows
        SET free_x = ARRAY(SELECT DISTINCT x FROM unnest(free_x || NEW.grid_x) AS x ORDER BY x)
        WHERE tier_id = NEW.tier_id AND section = coalesce(NEW.section, '')
          AND row_label = NEW.row_label;
        IF FOUND AND same_place THEN
            RETURN NULL;
        END IF;
    END IF;
    -- A seat new to this row (or a row new to this tier): the row must exist, at its place.
    INSERT INTO tier_rows (event_id, tier_id, section, row_label, grid_y, free_x)
    VALUES (NEW.event_id, NEW.tier_id, coalesce(NEW.section, ''), NEW.row_label,
            coalesce(NEW.grid_y, 0),
            CASE WHEN is_free THEN ARRAY[NEW.grid_x] ELSE '{{}}'::integer[] END)
    ON CONFLICT (tier_id, section, row_label) DO UPDATE SET grid_y = EXCLUDED.grid_y;
    RETURN NULL;
END
$$
"""  # noqa: S608 - constants only


def upgrade() -> None:
    # Positions must be sorted and distinct: consecutive seats share `x - ordinality`.
    op.execute(
        """
        CREATE FUNCTION longest_run(positions integer[]) RETURNS integer
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT coalesce(max(n), 0)::integer FROM (
                SELECT count(*) AS n FROM unnest(positions) WITH ORDINALITY AS p(x, i)
                GROUP BY x - i
            ) AS runs
        $$
        """
    )
    op.execute(
        """
        CREATE TABLE tier_rows (
            id bigserial PRIMARY KEY,
            event_id integer NOT NULL REFERENCES events (id) ON DELETE CASCADE,
            tier_id integer NOT NULL REFERENCES ticket_tiers (id) ON DELETE CASCADE,
            section varchar(40) NOT NULL DEFAULT '',
            row_label varchar(10) NOT NULL,
            grid_y integer NOT NULL,
            centre_x2 integer NOT NULL DEFAULT 0,
            free_x integer[] NOT NULL DEFAULT '{}',
            free integer GENERATED ALWAYS AS (cardinality(free_x)) STORED,
            max_run integer GENERATED ALWAYS AS (longest_run(free_x)) STORED,
            CONSTRAINT uq_tier_rows_tier_id UNIQUE (tier_id, section, row_label)
        )
        """
    )
    op.execute("CREATE INDEX ix_tier_rows_event_id ON tier_rows (event_id)")
    # The claim's index: rows with seats left, in the order best available takes them.
    op.execute(
        "CREATE INDEX ix_tier_rows_claim ON tier_rows (tier_id, grid_y, id) WHERE max_run > 0"
    )
    op.execute(_SYNC_FUNCTION)
    op.execute(_STATEMENT_FUNCTIONS)
    op.execute(
        "CREATE TRIGGER units_tier_rows_insert AFTER INSERT ON units REFERENCING NEW TABLE AS"
        " added FOR EACH STATEMENT EXECUTE FUNCTION units_add_tier_rows()"
    )
    op.execute(
        "CREATE TRIGGER units_tier_rows_update AFTER UPDATE OF booking_id, blocked, accessible,"
        " tier_id, section, row_label, seat_number, grid_x, grid_y ON units FOR EACH ROW "
        "WHEN (OLD.seat_number IS NOT NULL OR NEW.seat_number IS NOT NULL) "
        "EXECUTE FUNCTION units_sync_tier_rows()"
    )
    op.execute(
        "CREATE TRIGGER units_tier_rows_delete AFTER DELETE ON units REFERENCING OLD TABLE AS"
        " removed FOR EACH STATEMENT EXECUTE FUNCTION units_remove_tier_rows()"
    )
    op.execute(_ADD_SEATS.format(source="units"))  # seats laid out before this migration
    op.execute(
        """
        UPDATE tier_rows t SET centre_x2 = s.centre_x2
        FROM (SELECT event_id, coalesce(section, '') AS section,
                     min(grid_x) + max(grid_x) AS centre_x2
              FROM units WHERE seat_number IS NOT NULL GROUP BY 1, 2) AS s
        WHERE s.event_id = t.event_id AND s.section = t.section
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER units_tier_rows_delete ON units")
    op.execute("DROP TRIGGER units_tier_rows_update ON units")
    op.execute("DROP TRIGGER units_tier_rows_insert ON units")
    op.execute("DROP FUNCTION units_remove_tier_rows()")
    op.execute("DROP FUNCTION units_add_tier_rows()")
    op.execute("DROP FUNCTION units_sync_tier_rows()")
    op.execute("DROP TABLE tier_rows")
    op.execute("DROP FUNCTION longest_run(integer[])")
