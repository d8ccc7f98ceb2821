"""cron_job_search: the jobs list's copy of the columns it searches, filters and sorts on that
cron_job cannot index without slowing every run (store/tables.py says why; bench/README.md,
"Lists at scale", measures it). Filled from cron_job here; a trigger adds the row of each job
inserted, however it is inserted (the seed's own plain SQL INSERT included).

On PostgreSQL the name search gets a trigram index when the pg_trgm extension can be had
(trusted since PostgreSQL 13: a database owner may create it); without it the migration goes on
and logs how an operator adds it (README, "Searching many jobs"). The optional trigram index an
operator may have put on cron_job itself is dropped: it slowed every claim, and this one serves.

The fill locks cron_job against writes until the migration commits (about a second at 100,000
jobs), so no job is inserted between the copy and the trigger.

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cronbase.store.types import UTCDateTime

revision: str = "0023"
down_revision: str | Sequence[str] | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

logger = logging.getLogger("cronbase.migrate")

COLUMNS = "job_id, tenant_id, name, function_name, created_at, last_run, last_status"
FROM_JOB = "id, tenant_id, name, function_name, created_at, last_run, last_status"

# PostgreSQL: one statement-level trigger, so a bulk INSERT of jobs adds their rows in one go.
POSTGRES_FUNCTION = f"""
CREATE FUNCTION cron_job_search_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO cron_job_search ({COLUMNS}) SELECT {FROM_JOB} FROM search_new
    ON CONFLICT (job_id) DO NOTHING;
    RETURN NULL;
END
$$
"""
POSTGRES_TRIGGER = (
    "CREATE TRIGGER cron_job_search_insert AFTER INSERT ON cron_job REFERENCING NEW TABLE AS "
    "search_new FOR EACH STATEMENT EXECUTE FUNCTION cron_job_search_add()"
)
_SQLITE_VALUES = ", ".join(f"NEW.{c.strip()}" for c in FROM_JOB.split(","))
SQLITE_TRIGGER = (
    "CREATE TRIGGER cron_job_search_insert AFTER INSERT ON cron_job BEGIN "
    f"INSERT OR IGNORE INTO cron_job_search ({COLUMNS}) VALUES ({_SQLITE_VALUES}); END"
)
TRIGRAM = (
    "CREATE INDEX ix_cron_job_search_name_trgm ON cron_job_search USING gin (name gin_trgm_ops)"
)


def upgrade() -> None:
    op.create_table(
        "cron_job_search",
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("function_name", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_run", UTCDateTime(), nullable=True),
        sa.Column("last_status", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["cron_job.id"],
            name="fk_cron_job_search_job_id_cron_job",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", name="pk_cron_job_search"),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("LOCK TABLE cron_job IN SHARE ROW EXCLUSIVE MODE")
    op.execute(f"INSERT INTO cron_job_search ({COLUMNS}) SELECT {FROM_JOB} FROM cron_job")
    if postgres:
        op.execute(POSTGRES_FUNCTION)
    op.execute(POSTGRES_TRIGGER if postgres else SQLITE_TRIGGER)
    # The indexes after the fill: built once rather than entry by entry.
    table = "cron_job_search"
    op.create_index("ix_cron_job_search_last_run", table, ["last_run", "job_id"])
    op.create_index(
        "ix_cron_job_search_tenant_last_run", table, ["tenant_id", "last_run", "job_id"]
    )
    op.create_index("ix_cron_job_search_last_status", table, ["last_status", "job_id"])
    op.create_index("ix_cron_job_search_function_name", table, ["function_name", "job_id"])
    if postgres:
        op.execute("DROP INDEX IF EXISTS ix_cron_job_name_search")
        _trigram_index()


def _trigram_index() -> None:
    """The name search's trigram index, if pg_trgm is there or may be created; else a log
    line saying how to add it (the search works without it, reading every job's name)."""
    bind = op.get_bind()
    try:
        with bind.begin_nested():  # a savepoint: a refusal must not end the migration
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            bind.exec_driver_sql(TRIGRAM)
    except sa.exc.DBAPIError as error:
        logger.warning(
            "no trigram index for the jobs list's name search (%s): a search for a rare name "
            "reads every job. To add it, as a user who may: CREATE EXTENSION IF NOT EXISTS "
            "pg_trgm; CREATE INDEX CONCURRENTLY ix_cron_job_search_name_trgm ON cron_job_search "
            "USING gin (name gin_trgm_ops);",
            str(error.orig).strip().splitlines()[0],
        )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("DROP TRIGGER cron_job_search_insert ON cron_job")
        op.execute("DROP FUNCTION cron_job_search_add()")
    else:
        op.execute("DROP TRIGGER cron_job_search_insert")
    op.drop_table("cron_job_search")
