"""A run keeps what it logged and the traceback of its failure.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs: nullable, no default, so no row is rewritten (and SQLite needs no
    # table rebuild). Runs recorded before have NULL: nothing was kept then.
    op.add_column("cron_job_run", sa.Column("log", sa.Text(), nullable=True))
    op.add_column("cron_job_run", sa.Column("traceback", sa.Text(), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMNs (SQLite 3.35 and later): a batch rebuild would reflect the table and
    # could lose the partial indexes a reflection cannot read back.
    op.drop_column("cron_job_run", "traceback")
    op.drop_column("cron_job_run", "log")
