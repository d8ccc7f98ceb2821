"""What the Web UI's pictures draw, from the run table: each job's recent runs (the strips of
the jobs table, a job's chart) and the runs of the last hour, minute by minute."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from cronbase.activity import MAX_RECENT_RUNS, RunTiming
from cronbase.api.deps import AdminDep, ServicesDep
from cronbase.api.schemas import (
    ActivityData,
    Envelope,
    MinuteActivityPublic,
    RecentRuns,
    RunTimingPublic,
)

MAX_RECENT_RUN_JOBS = 100

router = APIRouter(prefix="/api/cron/runs", tags=["cron"])


def _timing(run: RunTiming) -> RunTimingPublic:
    return RunTimingPublic(**vars(run), duration_ms=run.duration_ms, start_lag_ms=run.start_lag_ms)


@router.get("/recent", summary="The newest runs of each of the given jobs, oldest first")
def recent_runs(
    services: ServicesDep,
    caller: AdminDep,
    job_id: Annotated[
        list[UUID],
        Query(max_length=MAX_RECENT_RUN_JOBS, description="a job id; repeat for more (1-100)"),
    ],
    limit: Annotated[int, Query(ge=1, le=MAX_RECENT_RUNS, description="runs per job (1-100)")] = 20,
) -> Envelope[RecentRuns]:
    """The jobs table's strips (20 per job, for a page of jobs) and a job's chart (its last
    100) in one request, read in one query. Pending runs are left out: they have no outcome
    yet. Jobs deleted meanwhile, or that the caller may not see, are left out."""
    recent = services.manager.recent_runs(job_id, caller, limit=limit)
    found = {str(job): [_timing(run) for run in runs] for job, runs in recent.items()}
    return Envelope(data=RecentRuns(runs=found))


@router.get("/activity", summary="The runs of the last hour, minute by minute")
def activity(services: ServicesDep, caller: AdminDep) -> Envelope[ActivityData]:
    """For each of the last 60 minutes, the runs that started in it, how many of them failed
    (failed, timed out or abandoned) and their start lag: of every job for a superadmin, of
    the caller's tenant's jobs for an admin."""
    minutes = [
        MinuteActivityPublic(**vars(one)) for one in services.manager.minute_activity(caller)
    ]
    return Envelope(data=ActivityData(minutes=minutes))
