"""Notifications: channels, the outbox of notifications, and their delivery attempts.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cronbase.store.types import JSONDocument, UTCDateTime, new_uuid

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cron_channel",
        sa.Column("id", sa.Uuid(), server_default=new_uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("events", JSONDocument, server_default=sa.text("'[]'"), nullable=False),
        sa.Column("job_ids", JSONDocument, nullable=True),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("previous_secret", sa.Text(), nullable=True),
        sa.Column("previous_secret_until", UTCDateTime(), nullable=True),
        sa.Column("muted_until", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_cron_channel_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cron_channel")),
    )
    op.create_index(
        "ix_cron_channel_tenant_listing", "cron_channel", ["tenant_id", "created_at", "id"]
    )
    op.create_table(
        "cron_notification",
        sa.Column("id", sa.Uuid(), server_default=new_uuid(), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("job_id", sa.Uuid(), nullable=True),
        sa.Column("run_id", sa.Uuid(), nullable=True),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("payload", JSONDocument, nullable=False),
        sa.Column("dedup_key", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("lease_owner", sa.Text(), nullable=True),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["cron_channel.id"],
            name=op.f("fk_cron_notification_channel_id_cron_channel"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cron_notification")),
    )
    op.create_index(
        "uq_cron_notification_dedup",
        "cron_notification",
        ["channel_id", "dedup_key"],
        unique=True,
    )
    op.create_index(
        "ix_cron_notification_due",
        "cron_notification",
        ["next_attempt_at"],
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_cron_notification_channel", "cron_notification", ["channel_id", "created_at"]
    )
    op.create_index("ix_cron_notification_created_at", "cron_notification", ["created_at"])
    op.create_table(
        "cron_delivery",
        sa.Column("id", sa.Uuid(), server_default=new_uuid(), nullable=False),
        sa.Column("notification_id", sa.Uuid(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("attempted_at", UTCDateTime(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["cron_notification.id"],
            name=op.f("fk_cron_delivery_notification_id_cron_notification"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cron_delivery")),
    )
    op.create_index(
        "ix_cron_delivery_notification", "cron_delivery", ["notification_id", "attempted_at"]
    )


def downgrade() -> None:
    op.drop_table("cron_delivery")
    op.drop_table("cron_notification")
    op.drop_table("cron_channel")
