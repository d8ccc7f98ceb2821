"""How many runs each worker may run at once (cron_worker.threads), for "why didn't it run?".

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL for a worker registered before: its free slots are unknown until it restarts.
    op.add_column("cron_worker", sa.Column("threads", sa.Integer()))


def downgrade() -> None:
    op.drop_column("cron_worker", "threads")
