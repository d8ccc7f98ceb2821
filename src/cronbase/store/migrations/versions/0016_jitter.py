"""Staggered schedules: a job's jitter_seconds.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (a batch rebuild of cron_job on SQLite would cascade-delete its runs);
    # every job keeps its times: 0 is no jitter.
    op.add_column(
        "cron_job",
        sa.Column("jitter_seconds", sa.Integer(), server_default="0", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("cron_job", "jitter_seconds")
