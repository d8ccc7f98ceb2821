"""/api/cron/run, /api/cron/functions and /api/cron/schedules/preview."""

from __future__ import annotations

from fastapi import APIRouter

from cronbase.api.deps import AdminDep, ServicesDep
from cronbase.api.schemas import (
    Envelope,
    FunctionList,
    FunctionPublic,
    PreviewData,
    PreviewRequest,
    RunSummaryData,
)
from cronbase.schedule import describe, preview, validate_timezone

router = APIRouter(prefix="/api/cron", tags=["cron"])


@router.post("/run", summary="Execute all due jobs")
def run_due(services: ServicesDep, caller: AdminDep) -> Envelope[RunSummaryData]:
    """Runs every due job; an admin's summary counts and lists only their tenant's jobs."""
    summary = services.runner.run_due().visible_to(caller.can_see)
    return Envelope(data=RunSummaryData.model_validate(summary.to_dict()))


@router.get("/functions", summary="The registered job functions")
def functions(services: ServicesDep, _caller: AdminDep) -> Envelope[FunctionList]:
    registered = services.manager.registry.functions()
    return Envelope(
        data=FunctionList(
            functions=[FunctionPublic(name=f.name, description=f.description) for f in registered]
        )
    )


@router.post("/schedules/preview", summary="Describe a schedule and list its next fire times")
def preview_schedule(
    body: PreviewRequest, services: ServicesDep, _caller: AdminDep
) -> Envelope[PreviewData]:
    zone = validate_timezone(body.timezone)
    next_runs = preview(body.schedule, services.manager.clock.now(), body.count, zone)
    return Envelope(
        data=PreviewData(
            schedule=body.schedule,
            timezone=zone,
            description=describe(body.schedule, zone),
            next_runs=next_runs,
        )
    )
