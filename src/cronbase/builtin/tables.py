"""The host application's CRM tables that the built-in jobs work on.

They are the seed's host tables, not the scheduler's: they register on the scheduler's
`metadata` only because one set of Alembic migrations creates the whole database (and a schema
test compares it with `metadata`). `tenants` stays with the scheduler, which scopes jobs by it.
"""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa

from cronbase.store.tables import (
    created_at_column,
    id_column,
    json_column,
    metadata,
    tenant_id_column,
)
from cronbase.store.types import UTCDateTime


def _people(name: str) -> sa.Table:
    """users and employees have the same columns. Presence lives in metadata (live_status,
    last_seen), as the seed's monitoring SQL reads it."""
    return sa.Table(
        name,
        metadata,
        id_column(),
        tenant_id_column(nullable=True),
        sa.Column("email", sa.Text(), nullable=False),
        json_column("metadata"),
        created_at_column(),
    )


users = _people("users")
employees = _people("employees")

accounts = sa.Table(
    "accounts",
    metadata,
    id_column(),
    tenant_id_column(),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("contact_count", sa.Integer(), nullable=False, server_default="0"),
    created_at_column(),
)

contacts = sa.Table(
    "contacts",
    metadata,
    id_column(),
    tenant_id_column(),
    sa.Column("account_id", sa.Uuid(), sa.ForeignKey("accounts.id", ondelete="SET NULL")),
    sa.Column("first_name", sa.Text(), nullable=False, server_default=""),
    sa.Column("last_name", sa.Text(), nullable=False, server_default=""),
    sa.Column("email", sa.Text()),
    sa.Column("account_name", sa.Text()),  # denormalized from accounts.name
    created_at_column(),
    sa.Index(None, "account_id"),
)


def _activity_columns() -> list[sa.Column[object]]:
    return [
        id_column(),
        tenant_id_column(),
        sa.Column("type", sa.Text(), nullable=False, server_default="note"),
        sa.Column("subject", sa.Text(), nullable=False, server_default=""),
        sa.Column("related_to", sa.Text()),  # 'account' or 'contact'
        sa.Column("related_id", sa.Uuid()),
        sa.Column("related_name", sa.Text()),  # denormalized name of the related record
        json_column("metadata"),
        created_at_column(),
    ]


activities = sa.Table(
    "activities",
    metadata,
    *_activity_columns(),
    sa.Index(None, "created_at"),
    sa.Index(None, "related_id"),
)

activities_archive = sa.Table(
    "activities_archive",
    metadata,
    *_activity_columns(),
    sa.Column("archived_at", UTCDateTime(), nullable=False, server_default=sa.func.now()),
)


def of_tenant(table: sa.FromClause, tenant_id: UUID | None) -> sa.ColumnElement[bool]:
    """Every row for a global job (tenant_id None), else only the tenant's rows."""
    return sa.true() if tenant_id is None else table.c.tenant_id == tenant_id
