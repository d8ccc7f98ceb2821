"""/api/cron/maintenance: maintenance windows, during which alerts are suppressed."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from cronbase.api.deps import AdminDep, ServicesDep
from cronbase.api.errors import error_response
from cronbase.api.schemas import Deleted, Envelope
from cronbase.notify.flood import MaintenanceWindow
from cronbase.notify.maintenance import InvalidWindow, WindowNotFound

router = APIRouter(prefix="/api/cron/maintenance", tags=["maintenance"])


class WindowCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_at: datetime | None = Field(None, description="default: now; with its offset")
    ends_at: datetime = Field(description="when alerts resume; with its offset")
    job_ids: list[UUID] | None = Field(None, max_length=100, description="null: every job")
    reason: str = Field("", max_length=500)
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


def _refused(exc: InvalidWindow | WindowNotFound) -> JSONResponse:
    if isinstance(exc, WindowNotFound):
        return error_response(404, str(exc))
    errors = [{"field": field, "message": message} for field, message in exc.errors]
    return error_response(422, f"invalid maintenance window: {exc}", errors)


@router.get("", summary="List maintenance windows that have not ended")
def list_windows(services: ServicesDep, caller: AdminDep) -> Envelope[WindowList]:
    windows = services.manager.maintenance.list(caller)
    return Envelope(data=WindowList(windows=[_public(w) for w in windows]))


@router.post(
    "",
    status_code=201,
    summary="Plan a maintenance window",
    response_model=Envelope[WindowData],
)
def create_window(body: WindowCreate, services: ServicesDep, caller: AdminDep) -> Any:
    """While it lasts, no alert about the jobs it covers is sent (an admin's window: their
    tenant's jobs; a superadmin's global window: every job)."""
    try:
        window = services.manager.maintenance.create(body.model_dump(exclude_unset=True), caller)
    except InvalidWindow as exc:
        return _refused(exc)
    return Envelope(data=WindowData(window=_public(window)))


@router.delete(
    "/{window_id}",
    summary="End a maintenance window now (delete it)",
    response_model=Envelope[Deleted],
)
def delete_window(window_id: UUID, services: ServicesDep, caller: AdminDep) -> Any:
    try:
        services.manager.maintenance.delete(window_id, caller)
    except WindowNotFound as exc:
        return _refused(exc)
    return Envelope(data=Deleted(id=window_id))
