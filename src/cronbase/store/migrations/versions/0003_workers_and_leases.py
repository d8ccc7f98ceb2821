"""Job priority and timeout, run leases, the worker registry; SQLite's due index fixed.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cronbase.store.types import UTCDateTime

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLAlchemy renders the filter as `is_active = 1` on SQLite, which SQLite does not
        # match to an index declared `WHERE is_active`: the due-job query scanned the table.
        op.drop_index("ix_cron_job_due", table_name="cron_job")
        op.create_index(
            "ix_cron_job_due", "cron_job", ["next_run"], sqlite_where=sa.text("is_active = 1")
        )
    with op.batch_alter_table("cron_job") as batch:
        batch.add_column(sa.Column("priority", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("timeout_seconds", sa.Integer(), nullable=True))
    with op.batch_alter_table("cron_job_run") as batch:
        batch.add_column(sa.Column("lease_until", UTCDateTime(), nullable=True))
    op.create_index(
        "ix_cron_job_run_leases",
        "cron_job_run",
        ["lease_until"],
        sqlite_where=sa.text("status = 'running'"),
        postgresql_where=sa.text("status = 'running'"),
    )
    op.create_table(
        "cron_worker",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("last_heartbeat", UTCDateTime(), nullable=False),
        sa.Column("stopped_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cron_worker")),
    )


def downgrade() -> None:
    op.drop_table("cron_worker")
    op.drop_index("ix_cron_job_run_leases", table_name="cron_job_run")
    with op.batch_alter_table("cron_job_run") as batch:
        batch.drop_column("lease_until")
    with op.batch_alter_table("cron_job") as batch:
        batch.drop_column("timeout_seconds")
        batch.drop_column("priority")
