"""The audit log (cron_job_audit, cronbase.audit): an entry written in the transaction of the
change it records, and a job's entries read newest first, a page at a time. Each function
runs on the connection it is given, inside the caller's transaction (see SqlStore)."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa

from cronbase.audit import AuditAction, AuditEntry, AuditQuery
from cronbase.listing import AUDIT_ORDER
from cronbase.store import keyset
from cronbase.store.rows import known
from cronbase.store.tables import metadata
from cronbase.store.types import JSONDocument, UTCDateTime

# No foreign keys, to the job or its tenant: the log outlives the job it tells of (who deleted
# it?), and the run-history retention leaves it alone.
cron_job_audit = sa.Table(
    "cron_job_audit",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("job_id", sa.Uuid(), nullable=False),
    sa.Column("tenant_id", sa.Uuid()),  # the job's, when the action was taken
    sa.Column("action", sa.Text(), nullable=False),
    sa.Column("actor", sa.Text(), nullable=False),
    sa.Column("actor_role", sa.Text(), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("changes", JSONDocument),
    sa.Column("detail", JSONDocument),
    # A job's log newest first (AUDIT_ORDER), from a cursor, without sorting it.
    sa.Index("ix_cron_job_audit_job", "job_id", "at", "id"),
)


def record(conn: sa.Connection, entry: AuditEntry | None) -> None:
    """Write `entry` (None: nothing changed, nothing to write)."""
    if entry is None:
        return
    conn.execute(
        cron_job_audit.insert().values(
            id=entry.id,
            job_id=entry.job_id,
            tenant_id=entry.tenant_id,
            action=entry.action.value,
            actor=entry.actor,
            actor_role=entry.actor_role,
            at=entry.at,
            changes=entry.changes,
            detail=entry.detail,
        )
    )


def list_entries(conn: sa.Connection, job_id: UUID, query: AuditQuery) -> list[AuditEntry]:
    """A page of the job's entries in AUDIT_ORDER (`query.limit` of them, after its key)."""
    select = sa.select(cron_job_audit).where(cron_job_audit.c.job_id == job_id)
    if query.tenant_id is not None:
        select = select.where(cron_job_audit.c.tenant_id == query.tenant_id)
    select = keyset.ordered(select, cron_job_audit, AUDIT_ORDER, query.after)
    return [
        AuditEntry(
            id=row.id,
            job_id=row.job_id,
            tenant_id=row.tenant_id,
            action=known(AuditAction, row.action),
            actor=row.actor,
            actor_role=row.actor_role,
            at=row.at,
            changes=row.changes,
            detail=row.detail,
        )
        for row in conn.execute(select.limit(query.limit))
    ]
