"""/api/cron/jobs: list, create, read, update, delete, and each job's run history."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response
from fastapi.routing import APIRoute

from cronbase.api.deps import AdminDep, KnownQueryOnly, ServicesDep, in_thread
from cronbase.api.errors import NO_NUL
from cronbase.api.responses import answer, answer_jobs
from cronbase.api.schemas import (
    Deleted,
    DependencyData,
    Envelope,
    ExplainData,
    ExplanationPublic,
    JobCreate,
    JobData,
    JobList,
    JobPublic,
    JobUpdate,
    LinkedJob,
    RunData,
    RunDetail,
    RunDetailData,
    RunList,
    RunPublic,
    UpstreamRun,
)
from cronbase.api.schemas import (
    Page as Pagination,
)
from cronbase.dependency_rules import Linked
from cronbase.jobs import Job, Run, RunStatus
from cronbase.listing import Page
from cronbase.manager import JobSpec

router = APIRouter(prefix="/api/cron/jobs", tags=["jobs"], dependencies=[KnownQueryOnly])

Limit = Annotated[int, Query(ge=1, le=500, description="page size")]
Offset = Annotated[
    int | None, Query(ge=0, le=2**31 - 1, description="rows to skip (not with cursor)")
]
Cursor = Annotated[
    str | None,
    Query(max_length=2000, description="next_cursor of the previous page (not with offset)"),
]


def _page(limit: int, offset: int | None, page: Page) -> Pagination:
    offset = offset or 0
    return Pagination(
        limit=limit,
        offset=offset,
        next_offset=offset + limit if page.has_more else None,
        next_cursor=page.next_cursor,
    )


def _job(job: Job) -> JobPublic:
    return JobPublic.model_validate(job, from_attributes=True)


def _run(run: Run) -> RunPublic:
    return RunPublic(**run.__dict__, duration_ms=run.duration_ms)


@router.get("", summary="List jobs", response_model=Envelope[JobList])
def list_jobs(
    services: ServicesDep,
    caller: AdminDep,
    tenant_id: UUID | None = None,
    has_tenant: Annotated[
        bool | None,
        Query(description="false: only the global jobs (no tenant); true: only tenants' jobs"),
    ] = None,
    is_active: bool | None = None,
    q: Annotated[
        str | None,
        Query(max_length=200, pattern=NO_NUL, description="a part of the name, any case"),
    ] = None,
    function_name: Annotated[str | None, Query(max_length=200, pattern=NO_NUL)] = None,
    last_status: Annotated[
        RunStatus | None,
        Query(
            description="the status of the job's last run that ran (as the list's copy has it: "
            "it may lag a run that started or ended in the last CRONBASE_SEARCH_REFRESH_SECONDS)"
        ),
    ] = None,
    sort: Annotated[
        str | None,
        Query(
            description="name, next_run or last_run; a leading - reverses; nulls last "
            "(last_run as the list's copy has it, which may lag by "
            "CRONBASE_SEARCH_REFRESH_SECONDS; the jobs show their own)"
        ),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
    offset: Offset = None,
) -> Response:
    page = services.manager.list_jobs_json(
        caller,
        tenant_id=tenant_id,
        has_tenant=has_tenant,
        is_active=is_active,
        q=q,
        function_name=function_name,
        last_status=last_status,
        sort=sort,
        cursor=cursor,
        limit=limit,
        offset=offset,
    )
    return answer_list(page, limit, offset)


def answer_list(page: Page, limit: int, offset: int | None) -> Response:
    """The list's answer: its page of jobs, each as JSON (store/job_json.py)."""
    return answer_jobs([job.json for job in page.items], _page(limit, offset, page))


def list_route() -> APIRoute:
    """The route of the list (for api/fast_list.py, which answers most of its requests)."""
    for route in router.routes:
        if isinstance(route, APIRoute) and route.endpoint is list_jobs:
            return route
    raise LookupError("no list route")


# A job's routes answer with the envelope serialized once (api/responses.py).
@router.post("", status_code=201, summary="Create a job", response_model=Envelope[JobData])
async def create_job(body: JobCreate, services: ServicesDep, caller: AdminDep) -> Response:
    job = await in_thread(services.manager.create_job, JobSpec(**body.model_dump()), caller)
    return answer(JobData(job=_job(job)), status_code=201)


@router.get("/{job_id}", summary="Read a job", response_model=Envelope[JobData])
def get_job(job_id: UUID, services: ServicesDep, caller: AdminDep) -> Response:
    return answer(JobData(job=_job(services.manager.get_job(job_id, caller))))


@router.put("/{job_id}", summary="Update a job's given fields", response_model=Envelope[JobData])
def update_job(job_id: UUID, body: JobUpdate, services: ServicesDep, caller: AdminDep) -> Response:
    job = services.manager.update_job(job_id, body.model_dump(exclude_unset=True), caller)
    return answer(JobData(job=_job(job)))


@router.delete("/{job_id}", summary="Delete a job and its run history")
def delete_job(
    job_id: UUID,
    services: ServicesDep,
    caller: AdminDep,
    detach: Annotated[
        bool, Query(description="remove the edges of the jobs that depend on this one")
    ] = False,
) -> Envelope[Deleted]:
    """A job that others depend on is refused with 409 naming them, unless `detach=true`."""
    services.manager.delete_job(job_id, caller, detach=detach)
    return Envelope(data=Deleted(id=job_id))


@router.get("/{job_id}/dependencies", summary="A job's upstream and downstream jobs")
def dependencies(job_id: UUID, services: ServicesDep, caller: AdminDep) -> Envelope[DependencyData]:
    """Transitively, breadth first: each job once, at its shortest depth, with the condition
    (`on`) of the edge that reaches it."""
    found = services.manager.dependencies(job_id, caller)

    def linked(pairs: list[tuple[Linked, Job]]) -> list[LinkedJob]:
        return [
            LinkedJob(
                id=job.id,
                name=job.name,
                schedule=job.schedule,
                wait_for=job.wait_for,
                depth=link.depth,
                on=link.on.value,
            )
            for link, job in pairs
        ]

    return Envelope(
        data=DependencyData(
            job=_job(found.job),
            upstream=linked(found.upstream),
            downstream=linked(found.downstream),
        )
    )


@router.get("/{job_id}/explain", summary="Why a job runs or does not")
def explain(job_id: UUID, services: ServicesDep, caller: AdminDep) -> Envelope[ExplainData]:
    """The job's state (scheduled, due, running, retry_pending, paused, overdue_no_worker,
    overdue_workers_busy, invalid_schedule, on_demand or waiting_for_dependencies) in a word
    and a sentence, the evidence behind it and its next five run times, in its time zone and
    in UTC. A tenant's admin sees how many workers live, not their hosts."""
    found = services.manager.explain(job_id, caller)
    return Envelope(data=ExplainData(explanation=ExplanationPublic(**found.to_dict())))


@router.get(
    "/{job_id}/runs", summary="A job's run history, newest first", response_model=Envelope[RunList]
)
def list_runs(
    job_id: UUID,
    services: ServicesDep,
    caller: AdminDep,
    status: Annotated[RunStatus | None, Query(description="only runs of this status")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
    offset: Offset = None,
) -> Response:
    page = services.manager.list_runs(
        job_id, caller, status=status, cursor=cursor, limit=limit, offset=offset
    )
    upstream = services.manager.upstream_runs(page.items, caller)
    listed = []
    for run in page.items:
        public = _run(run)
        public.upstream = [
            UpstreamRun(
                run_id=UUID(run_id), job_id=upstream[run_id][0], job_name=upstream[run_id][1]
            )
            for run_id in run.triggered_by or ()
            if run_id in upstream
        ]
        listed.append(public)
    return answer(RunList(runs=listed, pagination=_page(limit, offset, page)))


@router.get("/{job_id}/runs/{run_id}", summary="One run, with its log and traceback")
def get_run(
    job_id: UUID, run_id: UUID, services: ServicesDep, caller: AdminDep
) -> Envelope[RunDetailData]:
    """The run as the history lists it, plus what it logged and the traceback of its failure
    (the history leaves these out, as they can be large). 404 if the job is not visible to the
    caller or the run is not this job's."""
    run = services.manager.get_run(job_id, run_id, caller)
    detail = RunDetail(**_run(run).model_dump(), log=run.log, traceback=run.traceback)
    return Envelope(data=RunDetailData(run=detail))


@router.post(
    "/{job_id}/run",
    status_code=202,
    summary="Run a job now, outside its schedule",
    response_description="The queued run (status pending, trigger manual)",
)
def run_now(job_id: UUID, services: ServicesDep, caller: AdminDep) -> Envelope[RunData]:
    """Queues a manual run, which a worker starts as soon as it has a free slot (after the
    job's run in progress, if any). Paused jobs can be run this way too. If a manual run is
    already waiting, that run is returned and nothing more is queued."""
    return Envelope(data=RunData(run=_run(services.manager.run_now(job_id, caller))))
