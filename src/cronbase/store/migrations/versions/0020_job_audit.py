"""The audit log of jobs: who created, changed, paused, resumed, deleted, ran or backfilled one.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cronbase.store.types import JSONDocument, UTCDateTime

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # No foreign keys: an entry outlives its job (who deleted it?) and the run retention.
    op.create_table(
        "cron_job_audit",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("actor_role", sa.Text(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("changes", JSONDocument, nullable=True),
        sa.Column("detail", JSONDocument, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_cron_job_audit"),
    )
    op.create_index("ix_cron_job_audit_job", "cron_job_audit", ["job_id", "at", "id"])


def downgrade() -> None:
    op.drop_table("cron_job_audit")
