"""Response bodies of /api/cron/jobs/{id}/audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field


class AuditEntryPublic(BaseModel):
    id: UUID
    job_id: UUID
    tenant_id: UUID | None = Field(description="the job's tenant when the action was taken")
    action: str = Field(
        description="created, updated, paused, resumed, deleted, ran (run now), backfilled "
        "or backfill_cancelled"
    )
    actor: str = Field(
        description="who: the token's email or the JWT's subject; cli:<user> for the command "
        "line, system for the built-in jobs' seed"
    )
    actor_role: str = Field(description="superadmin or admin")
    at: datetime
    changes: dict[str, dict[str, Any]] | None = Field(
        description='{field: {"from": old, "to": new}} of the fields that changed (created: '
        "every field, from null); null for the other actions"
    )
    detail: dict[str, Any] | None = Field(
        description="ran: run_id; backfilled and backfill_cancelled: backfill_id, start, end, "
        "queued (and removed); deleted: the job's name"
    )


class AuditPage(BaseModel):
    limit: int
    next_cursor: str | None = Field(description="send as `cursor` for the next (older) page")


class AuditList(BaseModel):
    entries: list[AuditEntryPublic]
    pagination: AuditPage
