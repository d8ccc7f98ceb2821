"""Initial schema: the seed's cron_job table, run history and the host CRM tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-28 14:10:55.788139

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cronbase.store.types import JSONDocument, UTCDateTime, new_uuid

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "tenants",
        sa.Column("id", sa.Uuid(), server_default=new_uuid(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.Uuid(), server_default=new_uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("contact_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_accounts_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
    )
    op.create_table(
        "activities",
        sa.Column("id", sa.Uuid(), server_default=new_uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.Text(), server_default="note", nullable=False),
        sa.Column("subject", sa.Text(), server_default="", nullable=False),
        sa.Column("related_to", sa.Text(), nullable=True),
        sa.Column("related_id", sa.Uuid(), nullable=True),
        sa.Column("related_name", sa.Text(), nullable=True),
        sa.Column("metadata", JSONDocument, server_default=sa.text("'{}'"), nullable=False),
        sa.Column("created_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_activities_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
    )
    op.create_index(op.f("ix_activities_created_at"), "activities", ["created_at"], unique=False)
    op.create_index(op.f("ix_activities_related_id"), "activities", ["related_id"], unique=False)
    op.create_table(
        "activities_archive",
        sa.Column("id", sa.Uuid(), server_default=new_uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.Text(), server_default="note", nullable=False),
        sa.Column("subject", sa.Text(), server_default="", nullable=False),
        sa.Column("related_to", sa.Text(), nullable=True),
        sa.Column("related_id", sa.Uuid(), nullable=True),
        sa.Column("related_name", sa.Text(), nullable=True),
        sa.Column("metadata", JSONDocument, server_default=sa.text("'{}'"), nullable=False),
        sa.Column("created_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column("archived_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_activities_archive_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities_archive")),
    )
    op.create_table(
        "cron_job",
        sa.Column("id", sa.Uuid(), server_default=new_uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("schedule", sa.Text(), nullable=False),
        sa.Column("function_name", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("last_run", UTCDateTime(), nullable=True),
        sa.Column("next_run", UTCDateTime(), nullable=True),
        sa.Column("metadata", JSONDocument, server_default=sa.text("'{}'"), nullable=False),
        sa.Column("timezone", sa.Text(), server_default="UTC", nullable=False),
        sa.Column("created_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_cron_job_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cron_job")),
    )
    op.create_index(
        "ix_cron_job_due",
        "cron_job",
        ["next_run"],
        unique=False,
        sqlite_where=sa.text("is_active"),
        postgresql_where=sa.text("is_active"),
    )
    op.create_index(op.f("ix_cron_job_tenant_id"), "cron_job", ["tenant_id"], unique=False)
    op.create_table(
        "employees",
        sa.Column("id", sa.Uuid(), server_default=new_uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("metadata", JSONDocument, server_default=sa.text("'{}'"), nullable=False),
        sa.Column("created_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_employees_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_employees")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), server_default=new_uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("metadata", JSONDocument, server_default=sa.text("'{}'"), nullable=False),
        sa.Column("created_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_users_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_table(
        "contacts",
        sa.Column("id", sa.Uuid(), server_default=new_uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("first_name", sa.Text(), server_default="", nullable=False),
        sa.Column("last_name", sa.Text(), server_default="", nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("account_name", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_contacts_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_contacts_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    op.create_index(op.f("ix_contacts_account_id"), "contacts", ["account_id"], unique=False)
    op.create_table(
        "cron_job_run",
        sa.Column("id", sa.Uuid(), server_default=new_uuid(), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("scheduled_for", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("result", JSONDocument, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempt", sa.Integer(), server_default="1", nullable=False),
        sa.Column("worker_id", sa.Text(), nullable=True),
        sa.Column("trigger", sa.Text(), server_default="schedule", nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["cron_job.id"],
            name=op.f("fk_cron_job_run_job_id_cron_job"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cron_job_run")),
    )
    op.create_index(
        "ix_cron_job_run_history", "cron_job_run", ["job_id", "started_at"], unique=False
    )
    op.create_index(
        "uq_cron_job_run_slot",
        "cron_job_run",
        ["job_id", "scheduled_for"],
        unique=True,
        sqlite_where=sa.text("\"trigger\" = 'schedule'"),
        postgresql_where=sa.text("\"trigger\" = 'schedule'"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(
        "uq_cron_job_run_slot",
        table_name="cron_job_run",
        sqlite_where=sa.text("\"trigger\" = 'schedule'"),
        postgresql_where=sa.text("\"trigger\" = 'schedule'"),
    )
    op.drop_index("ix_cron_job_run_history", table_name="cron_job_run")
    op.drop_table("cron_job_run")
    op.drop_index(op.f("ix_contacts_account_id"), table_name="contacts")
    op.drop_table("contacts")
    op.drop_table("users")
    op.drop_table("employees")
    op.drop_index(op.f("ix_cron_job_tenant_id"), table_name="cron_job")
    op.drop_index(
        "ix_cron_job_due",
        table_name="cron_job",
        sqlite_where=sa.text("is_active"),
        postgresql_where=sa.text("is_active"),
    )
    op.drop_table("cron_job")
    op.drop_table("activities_archive")
    op.drop_index(op.f("ix_activities_related_id"), table_name="activities")
    op.drop_index(op.f("ix_activities_created_at"), table_name="activities")
    op.drop_table("activities")
    op.drop_table("accounts")
    op.drop_table("tenants")
