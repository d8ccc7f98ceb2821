"""A job's last run that ran: last_status and missed_since_last_run beside last_run, which
from now on is the start of the newest run that ran whatever started it.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cronbase.store import last_outcome

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs: on SQLite a batch rebuild of cron_job would cascade-delete its runs.
    op.add_column("cron_job", sa.Column("last_status", sa.Text(), nullable=True))
    op.add_column(
        "cron_job",
        sa.Column("missed_since_last_run", sa.Integer(), server_default="0", nullable=False),
    )
    # From the history: a job none of whose runs ran keeps the last_run it has (plain SQL's,
    # or one whose runs were deleted).
    last_outcome.refresh(op.get_bind(), keep_unknown=True)


def downgrade() -> None:
    # Plain DROP COLUMNs (SQLite 3.35 and later), for the reason above.
    op.drop_column("cron_job", "missed_since_last_run")
    op.drop_column("cron_job", "last_status")
