"""Alert state: muted jobs, each job's alert episode, overdue episodes, maintenance windows,
and flood control's repeats.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cronbase.store.types import JSONDocument, UTCDateTime, new_uuid

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs: no SQLite table rebuild (which would cascade-delete the runs).
    op.add_column("cron_job", sa.Column("muted_until", UTCDateTime(), nullable=True))
    op.add_column("cron_job", sa.Column("alerting_since", UTCDateTime(), nullable=True))
    op.create_table(
        "cron_job_overdue",
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("next_run", UTCDateTime(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("detected_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["cron_job.id"],
            name=op.f("fk_cron_job_overdue_job_id_cron_job"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", "next_run", name=op.f("pk_cron_job_overdue")),
    )
    op.create_table(
        "cron_maintenance",
        sa.Column("id", sa.Uuid(), server_default=new_uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("job_ids", JSONDocument, nullable=True),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_cron_maintenance_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cron_maintenance")),
    )
    op.create_index("ix_cron_maintenance_ends_at", "cron_maintenance", ["ends_at"])
    op.create_table(
        "cron_alert_repeat",
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("last_sent_at", UTCDateTime(), nullable=True),
        sa.Column("folded", sa.Integer(), server_default="0", nullable=False),
        sa.Column("folded_since", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["cron_channel.id"],
            name=op.f("fk_cron_alert_repeat_channel_id_cron_channel"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["cron_job.id"],
            name=op.f("fk_cron_alert_repeat_job_id_cron_job"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("channel_id", "job_id", "event", name=op.f("pk_cron_alert_repeat")),
    )


def downgrade() -> None:
    op.drop_table("cron_alert_repeat")
    op.drop_index("ix_cron_maintenance_ends_at", table_name="cron_maintenance")
    op.drop_table("cron_maintenance")
    op.drop_table("cron_job_overdue")
    op.drop_column("cron_job", "alerting_since")
    op.drop_column("cron_job", "muted_until")
