"""/api/cron/jobs/{id}/audit: who did what to a job, and when."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from cronbase.api.audit_schemas import AuditEntryPublic, AuditList, AuditPage
from cronbase.api.deps import AdminDep, KnownQueryOnly, ServicesDep
from cronbase.api.routes.jobs import Cursor, Limit
from cronbase.api.schemas import Envelope

router = APIRouter(prefix="/api/cron/jobs", tags=["jobs"], dependencies=[KnownQueryOnly])


@router.get("/{job_id}/audit", summary="A job's audit log, newest first")
def job_audit(
    job_id: UUID,
    services: ServicesDep,
    caller: AdminDep,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Envelope[AuditList]:
    """Who created, changed, paused, resumed, deleted, ran or backfilled the job, when, and
    the fields that changed. The log outlives the job: after a delete it still answers to the
    callers who could see the job. A tenant's admin sees the entries written while the job
    was their tenant's."""
    page = services.manager.job_audit(job_id, caller, cursor=cursor, limit=limit)
    entries = [AuditEntryPublic(**entry.to_dict()) for entry in page.items]
    pagination = AuditPage(limit=limit, next_cursor=page.next_cursor)
    return Envelope(data=AuditList(entries=entries, pagination=pagination))
