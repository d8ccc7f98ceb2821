"""API tokens may expire.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cronbase.store.types import UTCDateTime

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: a nullable column with no default rewrites no row
    # (and on SQLite needs no table rebuild, which would cascade-delete with foreign keys on).
    op.add_column("cron_api_token", sa.Column("expires_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cron_api_token") as batch:
        batch.drop_column("expires_at")
