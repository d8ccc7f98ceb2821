"""Retries, queued (pending) runs and process isolation.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cronbase.store.types import UTCDateTime

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SCHEDULED = sa.text("\"trigger\" = 'schedule'")
_PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    with op.batch_alter_table("cron_job") as batch:
        batch.add_column(
            sa.Column("max_attempts", sa.Integer(), server_default="1", nullable=False)
        )
        batch.add_column(
            sa.Column("retry_delay_seconds", sa.Integer(), server_default="30", nullable=False)
        )
        batch.add_column(sa.Column("isolation", sa.Text(), server_default="thread", nullable=False))
    with op.batch_alter_table("cron_job_run") as batch:
        batch.add_column(sa.Column("run_after", UTCDateTime(), nullable=True))
    # A slot may now have several attempts, each its own row: the key takes the attempt.
    op.drop_index("uq_cron_job_run_slot", table_name="cron_job_run")
    op.create_index(
        "uq_cron_job_run_slot",
        "cron_job_run",
        ["job_id", "scheduled_for", "attempt"],
        unique=True,
        sqlite_where=_SCHEDULED,
        postgresql_where=_SCHEDULED,
    )
    op.create_index(
        "ix_cron_job_claim",
        "cron_job",
        [sa.text("priority DESC"), "next_run"],
        sqlite_where=sa.text("is_active = 1"),
        postgresql_where=sa.text("is_active"),
    )
    # A job's history is listed in slot order (pending, missed and skipped rows never start).
    op.drop_index("ix_cron_job_run_history", table_name="cron_job_run")
    op.create_index("ix_cron_job_run_slots", "cron_job_run", ["job_id", "scheduled_for", "attempt"])
    op.create_index(
        "ix_cron_job_run_pending",
        "cron_job_run",
        ["run_after"],
        sqlite_where=_PENDING,
        postgresql_where=_PENDING,
    )


def downgrade() -> None:
    op.drop_index("ix_cron_job_claim", table_name="cron_job")
    op.drop_index("ix_cron_job_run_pending", table_name="cron_job_run")
    op.drop_index("ix_cron_job_run_slots", table_name="cron_job_run")
    op.create_index("ix_cron_job_run_history", "cron_job_run", ["job_id", "started_at"])
    op.drop_index("uq_cron_job_run_slot", table_name="cron_job_run")
    op.execute("DELETE FROM cron_job_run WHERE attempt > 1 OR status = 'pending'")
    op.create_index(
        "uq_cron_job_run_slot",
        "cron_job_run",
        ["job_id", "scheduled_for"],
        unique=True,
        sqlite_where=_SCHEDULED,
        postgresql_where=_SCHEDULED,
    )
    with op.batch_alter_table("cron_job_run") as batch:
        batch.drop_column("run_after")
    with op.batch_alter_table("cron_job") as batch:
        batch.drop_column("isolation")
        batch.drop_column("retry_delay_seconds")
        batch.drop_column("max_attempts")
