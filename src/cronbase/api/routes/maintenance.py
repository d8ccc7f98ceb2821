"""/api/cron/maintenance: maintenance windows, during which alerts are suppressed."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from cronbase.api.deps import AdminDep, ServicesDep
from cronbase.api.schemas import Deleted, Envelope
from cronbase.notify.flood import MaintenanceWindow
from cronbase.notify.maintenance import MAX_JOB_IDS, MAX_REASON

router = APIRouter(prefix="/api/cron/maintenance", tags=["maintenance"])


class WindowCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_at: datetime | None = Field(None, description="default: now; with its offset")
    ends_at: datetime = Field(description="when alerts resume; with its offset")
    job_ids: list[UUID] | None = Field(None, max_length=MAX_JOB_IDS, description="null: every job")
    reason: str = Field("", max_length=MAX_REASON)
    tenant_id: UUID | None = Field(None, description="a superadmin's choice; null: global")


class WindowPublic(BaseModel):
    id: UUID
    tenant_id: UUID | None
    starts_at: datetime
    ends_at: datetime
    job_ids: list[UUID] | None
    reason: str
    created_at: datetime


class WindowData(BaseModel):
    window: WindowPublic


class WindowList(BaseModel):
    windows: list[WindowPublic]


def _public(window: MaintenanceWindow) -> WindowPublic:
    return WindowPublic.model_validate(window, from_attributes=True)


@router.get("", summary="List maintenance windows that have not ended")
def list_windows(services: ServicesDep, caller: AdminDep) -> Envelope[WindowList]:
    windows = services.manager.maintenance.list(caller)
    return Envelope(data=WindowList(windows=[_public(w) for w in windows]))


@router.post("", status_code=201, summary="Plan a maintenance window")
def create_window(
    body: WindowCreate, services: ServicesDep, caller: AdminDep
) -> Envelope[WindowData]:
    """While it lasts, no alert about the jobs it covers is sent (an admin's window: their
    tenant's jobs; a superadmin's global window: every job)."""
    window = services.manager.maintenance.create(body.model_dump(exclude_unset=True), caller)
    return Envelope(data=WindowData(window=_public(window)))


@router.delete("/{window_id}", summary="End a maintenance window now (delete it)")
def delete_window(window_id: UUID, services: ServicesDep, caller: AdminDep) -> Envelope[Deleted]:
    services.manager.maintenance.delete(window_id, caller)
    return Envelope(data=Deleted(id=window_id))
