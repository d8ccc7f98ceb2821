"""Run-history retention: a job's keep_runs, the pruner's index, settings and locks.

A database this migration creates from nothing (a new installation) gets the retention
setting `run_retention_days` = 90; a database that already existed gets no setting, so it keeps
every run until CRONBASE_RUN_RETENTION_DAYS is given: an upgrade never deletes history on its
own. `cronbase migrate` says which database is new (see store/migrate.py).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from cronbase.store.types import UTCDateTime

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_INSTALLATION_RETENTION_DAYS = "90"


def upgrade() -> None:
    # Nullable with no default: a plain ADD COLUMN that rewrites no row on either database.
    op.add_column("cron_job", sa.Column("keep_runs", sa.Integer(), nullable=True))
    # On a large PostgreSQL table this blocks writes to cron_job_run while it builds (about
    # 10 s for 10 million rows on the reference machine): run the upgrade in a quiet moment.
    op.create_index("ix_cron_job_run_age", "cron_job_run", ["scheduled_for", "id"])
    settings = op.create_table(
        "cron_setting",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_cron_setting")),
    )
    op.create_table(
        "cron_lock",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("holder", sa.Text(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_cron_lock")),
    )
    if context.config.attributes.get("new_database", False):
        op.bulk_insert(
            settings, [{"name": "run_retention_days", "value": NEW_INSTALLATION_RETENTION_DAYS}]
        )


def downgrade() -> None:
    op.drop_table("cron_lock")
    op.drop_table("cron_setting")
    op.drop_index("ix_cron_job_run_age", table_name="cron_job_run")
    op.drop_column("cron_job", "keep_runs")  # plain, for the reason 0011 gives
