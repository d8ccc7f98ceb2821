"""An index on cron_job_run.started_at, for the Web UI's runs per minute of the last hour.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Writes to cron_job_run wait while it is built: seconds for millions of runs.
    op.create_index("ix_cron_job_run_started", "cron_job_run", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_cron_job_run_started", table_name="cron_job_run")
