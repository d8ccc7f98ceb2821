"""The jobs list's copy of each job's last run and status moves out of cron_job_search into a
table of its own, cron_job_last_run, with their indexes; cron_job_search gets indexes of the
default order (it changes only when a job is edited, so they cost the runs nothing).

The workers' refresher rewrites a job's row of the copy each time the job runs (store/search.py).
In cron_job_search, each such row version also took entries in the name's trigram index and
the function's index, which the refresh never changes: at 100,000 jobs, a pass copying 10,000
jobs took 975 ms in PostgreSQL, 265 ms with only these three indexes (bench/README.md, "Lists
at scale").

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cronbase.store.types import UTCDateTime

revision: str = "0024"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH = "job_id, tenant_id, name, function_name, created_at"
SEARCH_FROM_JOB = "id, tenant_id, name, function_name, created_at"
LAST_RUN = "job_id, tenant_id, last_run, last_status"
LAST_RUN_FROM_JOB = "id, tenant_id, last_run, last_status"

# The trigger of migration 0023, which now fills both tables.
POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION cron_job_search_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO cron_job_search ({SEARCH}) SELECT {SEARCH_FROM_JOB} FROM search_new
    ON CONFLICT (job_id) DO NOTHING;
    INSERT INTO cron_job_last_run ({LAST_RUN}) SELECT {LAST_RUN_FROM_JOB} FROM search_new
    ON CONFLICT (job_id) DO NOTHING;
    RETURN NULL;
END
$$
"""


def _sqlite_trigger(search: str, search_from: str, last_run: str | None) -> str:
    new = ", ".join(f"NEW.{c.strip()}" for c in search_from.split(","))
    inserts = f"INSERT OR IGNORE INTO cron_job_search ({search}) VALUES ({new});"
    if last_run is not None:
        values = ", ".join(f"NEW.{c.strip()}" for c in LAST_RUN_FROM_JOB.split(","))
        inserts += f" INSERT OR IGNORE INTO cron_job_last_run ({last_run}) VALUES ({values});"
    return f"CREATE TRIGGER cron_job_search_insert AFTER INSERT ON cron_job BEGIN {inserts} END"


def upgrade() -> None:
    op.create_table(
        "cron_job_last_run",
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("last_run", UTCDateTime(), nullable=True),
        sa.Column("last_status", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["cron_job.id"],
            name="fk_cron_job_last_run_job_id_cron_job",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", name="pk_cron_job_last_run"),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("LOCK TABLE cron_job IN SHARE ROW EXCLUSIVE MODE")
        op.execute(POSTGRES_FUNCTION)
    else:
        op.execute("DROP TRIGGER cron_job_search_insert")
        op.execute(_sqlite_trigger(SEARCH, SEARCH_FROM_JOB, LAST_RUN))
    # From the jobs themselves: the copy's values may be a refresh behind.
    op.execute(
        f"INSERT INTO cron_job_last_run ({LAST_RUN}) SELECT {LAST_RUN_FROM_JOB} FROM cron_job"
    )
    table = "cron_job_last_run"
    op.create_index("ix_cron_job_last_run_order", table, ["last_run", "job_id"])
    op.create_index("ix_cron_job_last_run_tenant_order", table, ["tenant_id", "last_run", "job_id"])
    op.create_index("ix_cron_job_last_run_status", table, ["last_status", "job_id"])
    op.drop_index("ix_cron_job_search_last_run", table_name="cron_job_search")
    op.drop_index("ix_cron_job_search_tenant_last_run", table_name="cron_job_search")
    op.drop_index("ix_cron_job_search_last_status", table_name="cron_job_search")
    op.execute("ALTER TABLE cron_job_search DROP COLUMN last_run")
    op.execute("ALTER TABLE cron_job_search DROP COLUMN last_status")
    # A search's page in the default order, read from the copy's own index (bench/lists.py:
    # walking cron_job's and probing the copy for each job took 40 ms for 1/50 of the names).
    op.create_index("ix_cron_job_search_order", "cron_job_search", ["created_at", "job_id"])
    op.create_index(
        "ix_cron_job_search_tenant_order", "cron_job_search", ["tenant_id", "created_at", "job_id"]
    )
    if postgres:  # statistics now, or the first pages are planned blind until autovacuum's
        op.execute("ANALYZE cron_job_search")
        op.execute("ANALYZE cron_job_last_run")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.drop_index("ix_cron_job_search_tenant_order", table_name="cron_job_search")
    op.drop_index("ix_cron_job_search_order", table_name="cron_job_search")
    op.add_column("cron_job_search", sa.Column("last_run", UTCDateTime(), nullable=True))
    op.add_column("cron_job_search", sa.Column("last_status", sa.Text(), nullable=True))
    op.execute(
        "UPDATE cron_job_search SET last_run = r.last_run, last_status = r.last_status"
        " FROM cron_job_last_run r WHERE r.job_id = cron_job_search.job_id"
    )
    op.create_index("ix_cron_job_search_last_run", "cron_job_search", ["last_run", "job_id"])
    op.create_index(
        "ix_cron_job_search_tenant_last_run", "cron_job_search", ["tenant_id", "last_run", "job_id"]
    )
    op.create_index("ix_cron_job_search_last_status", "cron_job_search", ["last_status", "job_id"])
    if postgres:  # 0023's function: the search table alone, with the last run
        op.execute(
            POSTGRES_FUNCTION.replace(
                f"    INSERT INTO cron_job_last_run ({LAST_RUN}) SELECT {LAST_RUN_FROM_JOB} FROM "
                "search_new\n    ON CONFLICT (job_id) DO NOTHING;\n",
                "",
            )
            .replace(SEARCH_FROM_JOB, f"{SEARCH_FROM_JOB}, last_run, last_status")
            .replace(f"({SEARCH})", f"({SEARCH}, last_run, last_status)")
        )
    else:
        op.execute("DROP TRIGGER cron_job_search_insert")
        op.execute(
            _sqlite_trigger(
                f"{SEARCH}, last_run, last_status",
                f"{SEARCH_FROM_JOB}, last_run, last_status",
                None,
            )
        )
    op.drop_table("cron_job_last_run")
