"""API tokens, and indexes that serve paginated job listings.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cronbase.store.types import UTCDateTime, new_uuid

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cron_api_token",
        sa.Column("id", sa.Uuid(), server_default=new_uuid(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_cron_api_token_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cron_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_cron_api_token_token_hash")),
    )
    op.drop_index("ix_cron_job_tenant_id", table_name="cron_job")
    op.create_index("ix_cron_job_listing", "cron_job", ["created_at", "id"])
    op.create_index("ix_cron_job_tenant_listing", "cron_job", ["tenant_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_cron_job_tenant_listing", table_name="cron_job")
    op.drop_index("ix_cron_job_listing", table_name="cron_job")
    op.create_index("ix_cron_job_tenant_id", "cron_job", ["tenant_id"])
    op.drop_table("cron_api_token")
