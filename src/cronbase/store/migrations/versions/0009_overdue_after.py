"""Jobs say how late a run may start before they count as overdue (the dead-man's switch).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases (no SQLite table rebuild, which would cascade-delete
    # the runs with foreign keys on); existing jobs take the default.
    op.add_column(
        "cron_job",
        sa.Column("overdue_after_seconds", sa.Integer(), server_default="600", nullable=False),
    )


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+), not a batch rebuild of the table, which would
    # reflect (and lose) its expression indexes.
    op.drop_column("cron_job", "overdue_after_seconds")
