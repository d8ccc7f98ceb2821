"""The jobs list's name search for one or two letters gets an index on PostgreSQL: trigrams
need three characters, so `q=zz` read every job's name (55 ms at 100,000 jobs on a loaded
machine, bench/README.md "Lists at scale"). A GIN index on the set of each name's one- and
two-character pieces (lower-cased, as ILIKE compares) answers whether a name holds `q`; the
search still applies its ILIKE, so the index only narrows. cron_job_search changes only when a
job is edited, so the index costs the runs nothing. SQLite reads the names, as before.

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0025"
down_revision: str | Sequence[str] | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Immutable (lower, substr and generate_series are), so that an index may be built on it.
FUNCTION = """
CREATE FUNCTION cronbase_name_pieces(name text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT substr(lower(name), i, n)), '{}')
    FROM generate_series(1, 2) AS n, generate_series(1, length(lower(name)) - n + 1) AS i
$$
"""
INDEX = (
    "CREATE INDEX ix_cron_job_search_name_pieces ON cron_job_search "
    "USING gin (cronbase_name_pieces(name))"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    op.execute(INDEX)
    op.execute("ANALYZE cron_job_search")  # the planner's estimate of a piece's jobs


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_cron_job_search_name_pieces")
    op.execute("DROP FUNCTION cronbase_name_pieces(text)")
