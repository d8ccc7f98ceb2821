"""Leases on claimed runs: renewed while a run goes on, given back when a worker stops before
starting a claim, and found lapsed when the worker that held them is gone."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import sqlalchemy as sa

from cronbase.jobs import Claim, Run, RunStatus, RunTrigger
from cronbase.store import last_outcome
from cronbase.store.rows import RUNNING, job_from_row, run_from_row
from cronbase.store.tables import cron_job, cron_job_run

# How long a claim holds its run; the worker renews it every third of this while the run goes on.
DEFAULT_LEASE = timedelta(seconds=60)
_JOB = "job__"  # the prefix of the job's columns where a query reads a run with its job


def _held_by(run_ids: list[UUID], worker_id: str) -> sa.ColumnElement[bool]:
    """The runs still running under `worker_id`'s claim (not since taken by another)."""
    return sa.and_(
        cron_job_run.c.id.in_(run_ids),
        cron_job_run.c.status == RunStatus.RUNNING.value,
        cron_job_run.c.worker_id == worker_id,
    )


def hold_runs(
    conn: sa.Connection, run_ids: list[UUID], worker_id: str, now: datetime, until: datetime
) -> None:
    """Start pending runs under `worker_id`'s lease (they were just claimed and locked)."""
    _hand_over(conn, cron_job_run.c.id.in_(run_ids), RunStatus.RUNNING, worker_id, now, until)


def release_runs(conn: sa.Connection, run_ids: list[UUID], worker_id: str, now: datetime) -> None:
    """Give back claims that never started, as pending runs; their jobs' last run is again
    the one before (the claim had made these runs the last)."""
    job_ids = sorted(
        set(
            conn.execute(
                sa.select(cron_job_run.c.job_id).where(_held_by(run_ids, worker_id))
            ).scalars()
        )
    )
    if not job_ids:
        return
    # The jobs before the runs, in id order, as record_outcomes and a cascading DELETE lock.
    conn.execute(
        sa.select(cron_job.c.id)
        .where(cron_job.c.id.in_(job_ids))
        .order_by(cron_job.c.id)
        .with_for_update()
    )
    _hand_over(conn, _held_by(run_ids, worker_id), RunStatus.PENDING, run_after=now)
    last_outcome.refresh(conn, job_ids)


def _hand_over(
    conn: sa.Connection,
    runs: sa.ColumnElement[bool],
    status: RunStatus,
    worker_id: str | None = None,
    started_at: datetime | None = None,
    lease_until: datetime | None = None,
    run_after: datetime | None = None,
) -> None:
    """Move runs between pending (waiting for any worker) and running (held by one)."""
    conn.execute(
        cron_job_run.update()
        .where(runs)
        .values(
            status=status.value,
            worker_id=worker_id,
            started_at=started_at,
            lease_until=lease_until,
            run_after=run_after,
        )
    )


def extend_leases(
    conn: sa.Connection, run_ids: list[UUID], worker_id: str, until: datetime
) -> None:
    conn.execute(
        cron_job_run.update().where(_held_by(run_ids, worker_id)).values(lease_until=until)
    )


def lapsed_claims(conn: sa.Connection, now: datetime) -> list[tuple[Claim, Run]]:
    """The runs still running whose lease lapsed before `now`, each as the claim its worker
    held (with the job as it is now) and as the run row."""
    query = (
        sa.select(cron_job_run, *(c.label(_JOB + c.name) for c in cron_job.c))
        .join(cron_job, cron_job.c.id == cron_job_run.c.job_id)
        .where(RUNNING, cron_job_run.c.lease_until < now)
        .order_by(cron_job_run.c.lease_until)
    )
    lapsed = []
    for row in conn.execute(query):
        run = run_from_row(row)
        if not isinstance(run.trigger, RunTrigger):  # a newer worker's: left alone
            continue
        job = job_from_row(row, prefix=_JOB)
        claim = Claim(
            run.id,
            job,
            run.scheduled_for,
            job.next_run,
            None,
            run.attempt,
            run.trigger,
            run.trigger_key,
            tuple(run.triggered_by or ()),
        )
        lapsed.append((claim, run))
    return lapsed
