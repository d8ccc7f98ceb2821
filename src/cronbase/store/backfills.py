"""Backfills (cron_backfill): queueing a job's past slots as `backfill` runs, reading how they
do, and cancelling. Each function runs in the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from cronbase.backfill import Backfill
from cronbase.jobs import FAILURE_STATUSES, Job, RunStatus, RunTrigger, isoformat
from cronbase.store.rows import job_from_row, keyed_run_insert, this_job
from cronbase.store.tables import cron_backfill, cron_job, cron_job_run

# A slot with one of these runs is not queued again.
_TAKEN = (RunStatus.SUCCEEDED.value, RunStatus.RUNNING.value, RunStatus.PENDING.value)


def create(
    conn: sa.Connection,
    dialect: str,
    job_id: UUID,
    tenant_id: UUID | None,
    slots_of: Callable[[Job], list[datetime]],
    values: dict[str, Any],
    now: datetime,
) -> tuple[Backfill | None, list[datetime]] | None:
    """Queue the job's slots (`slots_of` the job) that have no succeeded, running or pending
    run, in slot order; with values["dry_run"], only say which. None if the job does not exist
    (or, with `tenant_id`, is not that tenant's). The job's row is locked first, so two
    backfills of one job cannot queue the same slot."""
    row = conn.execute(
        sa.select(cron_job).where(this_job(job_id, tenant_id)).with_for_update()
    ).first()
    if row is None:
        return None
    job = job_from_row(row)
    slots = _free(conn, job_id, slots_of(job))
    if values["dry_run"]:
        return None, slots
    backfill_id = conn.execute(
        cron_backfill.insert()
        .values(
            job_id=job_id,
            tenant_id=job.tenant_id,
            start=values["start"],
            end=values["end"],
            include_dependents=values["include_dependents"],
            slots=len(slots),
            created_at=now,
        )
        .returning(cron_backfill.c.id)
    ).scalar_one()
    if slots:
        conn.execute(
            keyed_run_insert(dialect),
            [
                {
                    "job_id": job_id,
                    "tenant_id": job.tenant_id,
                    "scheduled_for": slot,
                    "status": RunStatus.PENDING.value,
                    "trigger": RunTrigger.BACKFILL.value,
                    "trigger_key": f"{_key_prefix(backfill_id)}{isoformat(slot)}",
                    # Claimed in slot order: pending runs go by run_after, then scheduled_for.
                    "run_after": now,
                }
                for slot in slots
            ],
        )
    return read(conn, job_id, backfill_id), slots


def _free(conn: sa.Connection, job_id: UUID, slots: list[datetime]) -> list[datetime]:
    """The slots that have no succeeded, running or pending run of the job."""
    if not slots:
        return []
    taken = set(
        conn.execute(
            sa.select(cron_job_run.c.scheduled_for).where(
                cron_job_run.c.job_id == job_id,
                cron_job_run.c.scheduled_for >= slots[0],
                cron_job_run.c.scheduled_for <= slots[-1],
                cron_job_run.c.status.in_(_TAKEN),
            )
        ).scalars()
    )
    return [slot for slot in slots if slot not in taken]


def read(conn: sa.Connection, job_id: UUID, backfill_id: UUID) -> Backfill | None:
    """The backfill with its runs' progress (each slot's last attempt), or None."""
    row = conn.execute(
        sa.select(cron_backfill).where(
            cron_backfill.c.id == backfill_id, cron_backfill.c.job_id == job_id
        )
    ).first()
    if row is None:
        return None
    runs = conn.execute(
        sa.select(cron_job_run.c.trigger_key, cron_job_run.c.attempt, cron_job_run.c.status).where(
            _its_runs(job_id, backfill_id)
        )
    ).all()
    last: dict[str, Any] = {}
    for run in runs:
        if run.trigger_key not in last or run.attempt > last[run.trigger_key].attempt:
            last[run.trigger_key] = run
    statuses = [run.status for run in last.values()]
    return Backfill(
        id=row.id,
        job_id=row.job_id,
        start=row.start,
        end=row.end,
        include_dependents=row.include_dependents,
        slots=row.slots,
        created_at=row.created_at,
        cancelled_at=row.cancelled_at,
        pending=statuses.count(RunStatus.PENDING.value),
        running=statuses.count(RunStatus.RUNNING.value),
        succeeded=statuses.count(RunStatus.SUCCEEDED.value),
        failed=sum(1 for status in statuses if status in FAILURE_STATUSES),
        removed=row.slots - len(last),
    )


def cancel(conn: sa.Connection, job_id: UUID, backfill_id: UUID, now: datetime) -> Backfill | None:
    """Remove the backfill's runs still waiting (those running finish) and mark it cancelled."""
    updated = conn.execute(
        cron_backfill.update()
        .where(cron_backfill.c.id == backfill_id, cron_backfill.c.job_id == job_id)
        .values(cancelled_at=sa.func.coalesce(cron_backfill.c.cancelled_at, now))
    )
    if updated.rowcount != 1:
        return None
    conn.execute(
        cron_job_run.delete().where(
            _its_runs(job_id, backfill_id), cron_job_run.c.status == RunStatus.PENDING.value
        )
    )
    return read(conn, job_id, backfill_id)


def _key_prefix(backfill_id: UUID) -> str:
    """How the trigger_key of each of the backfill's runs begins: backfill:<id>:<slot>."""
    return f"backfill:{backfill_id}:"


def _its_runs(job_id: UUID, backfill_id: UUID) -> sa.ColumnElement[bool]:
    return sa.and_(
        cron_job_run.c.job_id == job_id,
        cron_job_run.c.trigger_key.startswith(_key_prefix(backfill_id), autoescape=True),
    )


def include_dependents(conn: sa.Connection, trigger_keys: list[str]) -> set[str]:
    """Of these backfill runs' keys (see _key_prefix), those whose backfill replays the
    dependents too."""
    ids = {key.split(":")[1] for key in trigger_keys if key.count(":") >= 2}
    if not ids:
        return set()
    query = sa.select(cron_backfill.c.id).where(
        cron_backfill.c.id.in_([UUID(i) for i in ids]), cron_backfill.c.include_dependents
    )
    replaying = {str(i) for i in conn.execute(query).scalars()}
    return {key for key in trigger_keys if key.split(":")[1] in replaying}
