"""A tally of recorded runs by status (cron_run_tally), kept by triggers on cron_job_run, so
that /metrics reads cronbase_runs_recorded_total from a few rows instead of counting the
history, and pruning or deleting runs never lowers it (it is a Prometheus counter).

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The statuses a run ends in (the others, pending and running, are states, not records).
ENDED = "('succeeded', 'failed', 'timed_out', 'abandoned', 'missed', 'skipped')"

# PostgreSQL: one statement-level trigger per INSERT and UPDATE, adding up the statement's
# rows per status. Each connection adds to rows of its own (shard = its backend's pid), so
# two workers recording at once never wait for each other's row locks (nor deadlock on
# them); a scrape sums the shards. Statuses are added in sorted order.
POSTGRES_FUNCTION = f"""
CREATE FUNCTION cron_run_tally_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO cron_run_tally (status, shard, runs)
        SELECT n.status, pg_backend_pid(), count(*) FROM tally_new n
        WHERE n.status IN {ENDED} GROUP BY n.status ORDER BY n.status
        ON CONFLICT (status, shard) DO UPDATE SET runs = cron_run_tally.runs + EXCLUDED.runs;
    ELSE
        INSERT INTO cron_run_tally (status, shard, runs)
        SELECT n.status, pg_backend_pid(), count(*) FROM tally_new n JOIN tally_old o USING (id)
        WHERE n.status IN {ENDED} AND n.status IS DISTINCT FROM o.status
        GROUP BY n.status ORDER BY n.status
        ON CONFLICT (status, shard) DO UPDATE SET runs = cron_run_tally.runs + EXCLUDED.runs;
    END IF;
    RETURN NULL;
END
$$
"""
POSTGRES_TRIGGERS = [
    (
        "CREATE TRIGGER cron_run_tally_insert AFTER INSERT ON cron_job_run REFERENCING NEW "
        "TABLE AS tally_new FOR EACH STATEMENT EXECUTE FUNCTION cron_run_tally_add()"
    ),
    (
        "CREATE TRIGGER cron_run_tally_update AFTER UPDATE ON cron_job_run REFERENCING OLD "
        "TABLE AS tally_old NEW TABLE AS tally_new "
        "FOR EACH STATEMENT EXECUTE FUNCTION cron_run_tally_add()"
    ),
]

# SQLite has row triggers only; it has one writer at a time, so one row per status (shard 0).
_SQLITE_ADD = (
    "INSERT INTO cron_run_tally (status, shard, runs) VALUES (NEW.status, 0, 1) "
    "ON CONFLICT (status, shard) DO UPDATE SET runs = runs + 1;"
)
SQLITE_TRIGGERS = [
    (
        "CREATE TRIGGER cron_run_tally_insert AFTER INSERT ON cron_job_run "
        f"WHEN NEW.status IN {ENDED} BEGIN {_SQLITE_ADD} END"
    ),
    (
        "CREATE TRIGGER cron_run_tally_update AFTER UPDATE OF status ON cron_job_run "
        f"WHEN NEW.status IN {ENDED} AND NEW.status IS NOT OLD.status BEGIN {_SQLITE_ADD} END"
    ),
]
TRIGGERS = ("cron_run_tally_insert", "cron_run_tally_update")


def upgrade() -> None:
    op.create_table(
        "cron_run_tally",
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("shard", sa.BigInteger(), nullable=False),
        sa.Column("runs", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("status", "shard"),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        # No run is recorded between the count and the triggers: the table is locked.
        op.execute("LOCK TABLE cron_job_run IN SHARE ROW EXCLUSIVE MODE")
    # The runs recorded so far count as recorded: one scan of the history, once.
    op.execute(
        "INSERT INTO cron_run_tally (status, shard, runs) SELECT status, 0, count(*) "
        f"FROM cron_job_run WHERE status IN {ENDED} GROUP BY status"
    )
    if postgres:
        op.execute(POSTGRES_FUNCTION)
    for statement in POSTGRES_TRIGGERS if postgres else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for trigger in TRIGGERS:
        op.execute(
            f"DROP TRIGGER {trigger} ON cron_job_run" if postgres else f"DROP TRIGGER {trigger}"
        )
    if postgres:
        op.execute("DROP FUNCTION cron_run_tally_add()")
    op.drop_table("cron_run_tally")
