"""/api/cron/jobs/{id}/backfills: replay a job's past slots, follow the replay, cancel it."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from cronbase.api.backfill_schemas import BackfillData, BackfillPublic, BackfillRequest
from cronbase.api.deps import AdminDep, KnownQueryOnly, ServicesDep
from cronbase.api.schemas import Envelope
from cronbase.backfill import Backfill

router = APIRouter(prefix="/api/cron/jobs", tags=["backfills"], dependencies=[KnownQueryOnly])


def _public(backfill: Backfill) -> BackfillPublic:
    return BackfillPublic(
        **{
            name: getattr(backfill, name)
            for name in BackfillPublic.model_fields
            if name != "queued"
        },
        queued=backfill.slots,
    )


@router.post(
    "/{job_id}/backfills",
    status_code=201,
    summary="Queue a run for each past slot of the job in a range",
    responses={200: {"description": "A dry run: the slots, nothing queued"}},
)
def create_backfill(
    job_id: UUID,
    body: BackfillRequest,
    services: ServicesDep,
    caller: AdminDep,
    response: Response,
) -> Envelope[BackfillData]:
    """One pending run with trigger `backfill` for each slot of the job's schedule in
    [start, end) that has no succeeded, running or pending run, run one at a time (unless the
    job's overlap policy is allow) after the due scheduled runs; at most 1,000 slots."""
    backfill, slots = services.manager.backfill(
        job_id,
        caller,
        start=body.start,
        end=body.end,
        include_dependents=body.include_dependents,
        dry_run=body.dry_run,
    )
    if backfill is None:
        response.status_code = 200
    public = _public(backfill) if backfill is not None else None
    return Envelope(data=BackfillData(backfill=public, slots=slots))


@router.get("/{job_id}/backfills/{backfill_id}", summary="A backfill and its progress")
def get_backfill(
    job_id: UUID, backfill_id: UUID, services: ServicesDep, caller: AdminDep
) -> Envelope[BackfillData]:
    backfill = services.manager.get_backfill(job_id, backfill_id, caller)
    return Envelope(data=BackfillData(backfill=_public(backfill), slots=[]))


@router.delete(
    "/{job_id}/backfills/{backfill_id}",
    summary="Cancel a backfill: its waiting runs are removed, those running finish",
)
def cancel_backfill(
    job_id: UUID, backfill_id: UUID, services: ServicesDep, caller: AdminDep
) -> Envelope[BackfillData]:
    backfill = services.manager.cancel_backfill(job_id, backfill_id, caller)
    return Envelope(data=BackfillData(backfill=_public(backfill), slots=[]))
