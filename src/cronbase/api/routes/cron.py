"""/api/cron/run, /functions, /schedules/preview, and what the Web UI needs to know about the
deployment: who is signed in (/me), the tenants, the live workers and the jobs' latest runs."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from cronbase.api.deps import AdminDep, CallerDep, KnownQueryOnly, ServicesDep
from cronbase.api.routes.jobs import _run as run_public
from cronbase.api.schemas import (
    Envelope,
    FunctionList,
    FunctionPublic,
    LatestRuns,
    Me,
    OptionPublic,
    PreviewData,
    PreviewRequest,
    RunSummaryData,
    TenantList,
    TenantPublic,
    WorkerList,
    WorkerPublic,
)
from cronbase.auth import Role
from cronbase.job_options import describe_options
from cronbase.schedule import describe, validate_timezone

MAX_LATEST_RUN_JOBS = 100

router = APIRouter(prefix="/api/cron", tags=["cron"], dependencies=[KnownQueryOnly])


@router.post("/run", summary="Execute all due jobs")
def run_due(services: ServicesDep, caller: AdminDep) -> Envelope[RunSummaryData]:
    """Runs every due job; an admin's summary counts and lists only their tenant's jobs."""
    runner = services.new_runner()
    summary = runner.run_due().visible_to(caller.can_see)
    # The jobs list's last_status filter and last_run sort see these runs at once, whether or
    # not a worker runs to refresh its copy (store/search.py), as after `cronbase run-due`.
    services.new_search_refresher(runner.worker_id).refresh(before_exit=True)
    return Envelope(data=RunSummaryData.model_validate(summary.to_dict()))


@router.get("/functions", summary="The registered job functions")
def functions(services: ServicesDep, _caller: AdminDep) -> Envelope[FunctionList]:
    """Each function with the options it reads from a job's metadata: the Web UI's form makes
    them fields, and a job whose metadata breaks them is refused (422) at `metadata.<key>`."""
    listed = [
        FunctionPublic(
            name=f.name,
            description=f.description,
            options=[OptionPublic(**vars(o)) for o in describe_options(f.options)],
        )
        for f in services.manager.registry.functions()
    ]
    return Envelope(data=FunctionList(functions=listed))


@router.post("/schedules/preview", summary="Describe a schedule and list its next fire times")
def preview_schedule(
    body: PreviewRequest, services: ServicesDep, caller: AdminDep
) -> Envelope[PreviewData]:
    """With `job_id`, the times include that job's jitter offset: the times it would run."""
    zone = validate_timezone(body.timezone)
    next_runs, offset = services.manager.preview_runs(
        body.schedule,
        zone,
        body.count,
        caller,
        job_id=body.job_id,
        jitter_seconds=body.jitter_seconds,
    )
    return Envelope(
        data=PreviewData(
            schedule=body.schedule,
            timezone=zone,
            description=describe(body.schedule, zone),
            next_runs=next_runs,
            offset_seconds=int(offset.total_seconds()),
        )
    )


@router.get("/me", summary="The signed-in caller: email, role and tenant")
def me(services: ServicesDep, caller: CallerDep) -> Envelope[Me]:
    """Readable by every role, so a page can say who is signed in and what they may do."""
    tenant_name = services.manager.tenant_name(caller.tenant_id) if caller.tenant_id else None
    return Envelope(
        data=Me(
            email=caller.email,
            role=caller.role.value,
            tenant_id=caller.tenant_id,
            tenant_name=tenant_name,
            can_manage_jobs=caller.role is not Role.USER,
        )
    )


@router.get("/tenants", summary="The tenants the caller may see, by name")
def tenants(services: ServicesDep, caller: AdminDep) -> Envelope[TenantList]:
    """Every tenant for a superadmin; an admin's own tenant only."""
    visible = [
        TenantPublic(id=tenant_id, name=name)
        for tenant_id, name in services.manager.list_tenants(caller)
    ]
    return Envelope(data=TenantList(tenants=visible))


@router.get("/workers", summary="The live workers, and whether any is running")
def workers(services: ServicesDep, caller: CallerDep) -> Envelope[WorkerList]:
    """Workers that have not stopped and heartbeated within the last two minutes. With none,
    nothing runs due jobs unless something calls POST /api/cron/run (the Web UI's heartbeat).
    Every role learns how many are alive; only superadmins see their hosts and pids."""
    live = services.manager.live_workers()
    listed = [
        WorkerPublic(
            id=w.id,
            host=w.host,
            pid=w.pid,
            started_at=w.started_at,
            last_heartbeat=w.last_heartbeat,
        )
        for w in live
    ]
    return Envelope(
        data=WorkerList(
            worker_running=bool(live),
            alive=len(live),
            workers=listed if caller.is_superadmin else None,
        )
    )


@router.get("/runs/latest", summary="The newest run of each of the given jobs")
def latest_runs(
    services: ServicesDep,
    caller: AdminDep,
    job_id: Annotated[
        list[UUID],
        Query(max_length=MAX_LATEST_RUN_JOBS, description="a job id; repeat for more (1-100)"),
    ],
) -> Envelope[LatestRuns]:
    """One request for a page of the jobs table, instead of one per job. Jobs deleted
    meanwhile, or that the caller may not see, are left out."""
    latest = services.manager.latest_runs(job_id, caller)
    found = {str(one): run_public(latest[one]) for one in dict.fromkeys(job_id) if one in latest}
    return Envelope(data=LatestRuns(runs=found))
