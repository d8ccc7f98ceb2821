"""Misfire and overlap policies.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cron_job") as batch:
        batch.add_column(
            sa.Column("misfire_policy", sa.Text(), server_default="coalesce", nullable=False)
        )
        batch.add_column(sa.Column("catchup_window_seconds", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("overlap_policy", sa.Text(), server_default="skip", nullable=False)
        )
    op.create_index(
        "ix_cron_job_run_running",
        "cron_job_run",
        ["job_id"],
        sqlite_where=sa.text("status = 'running'"),
        postgresql_where=sa.text("status = 'running'"),
    )


def downgrade() -> None:
    op.drop_index("ix_cron_job_run_running", table_name="cron_job_run")
    with op.batch_alter_table("cron_job") as batch:
        batch.drop_column("overlap_policy")
        batch.drop_column("catchup_window_seconds")
        batch.drop_column("misfire_policy")
