"""Recording how runs ended: every ending (a result, an error, a timeout, a shutdown, a lapsed
lease) arrives as an Outcome built beforehand, and goes through record_outcomes, which also
writes the notifications of the final attempts to the outbox, in the same transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from cronbase.jobs import Outcome, Recorded, RunStatus
from cronbase.monitoring import count_run
from cronbase.notify.events import run_events
from cronbase.store import last_outcome
from cronbase.store.alerts import episodes_of_runs
from cronbase.store.notifications import add_events
from cronbase.store.rows import retry_row, run_insert
from cronbase.store.tables import cron_job, cron_job_dependency, cron_job_run
from cronbase.store.triggers import trigger_dependents


def record_outcomes(
    conn: sa.Connection, dialect: str, outcomes: list[Outcome], quiet: timedelta
) -> list[Recorded]:
    """Record the outcomes; say for each what happened (see Store.record_outcomes)."""
    # Lock the jobs before the runs, in id order: the order in which a DELETE of a job
    # cascades, so the two cannot deadlock.
    metadata, depended_on = _lock_jobs(conn, {outcome.claim.job.id for outcome in outcomes})
    runs = _lock_runs(conn, [outcome.claim.run_id for outcome in outcomes])
    verdicts = [_verdict(outcome, metadata, runs) for outcome in outcomes]
    recorded = [o for o, v in zip(outcomes, verdicts, strict=True) if v is Recorded.RECORDED]
    if recorded:
        _update_runs(conn, recorded)
        retries = [retry_row(o.claim, o.retry_at) for o in recorded if o.retry_at is not None]
        if retries:
            conn.execute(run_insert(dialect), retries)
        final = [o for o in recorded if o.retry_at is None]
        # In this transaction: the alert exists if and only if the run's ending does.
        # A job's first success after an alert closes its episode (job.recovered).
        recovered = episodes_of_runs(conn, final)
        add_events(conn, dialect, run_events(final) + recovered, quiet)
        # The jobs' last outcome and run counts: one update of each job's row.
        last_outcome.note_ended(conn, recorded, _counted(metadata, final))
        # In this transaction too: the runs of the jobs that depend on these.
        trigger_dependents(conn, dialect, [o for o in final if o.claim.job.id in depended_on])
    return verdicts


def _lock_jobs(conn: sa.Connection, job_ids: set[UUID]) -> tuple[dict[UUID, Any], set[UUID]]:
    """Lock the jobs' rows, in id order; return the metadata of those that still exist, and
    which of them other jobs depend on: asked here, so that where no job has dependents,
    starting them costs no statement of its own."""
    has_dependents = sa.exists().where(cron_job_dependency.c.upstream_id == cron_job.c.id)
    query = (
        sa.select(cron_job.c.id, cron_job.c.metadata, has_dependents)
        .where(cron_job.c.id.in_(sorted(job_ids)))
        .order_by(cron_job.c.id)
        .with_for_update()
    )
    rows = conn.execute(query).all()
    return {row[0]: row[1] for row in rows}, {row[0] for row in rows if row[2]}


def _lock_runs(conn: sa.Connection, run_ids: list[UUID]) -> dict[UUID, tuple[str, Any]]:
    """Lock the runs' rows; return {run id: (status, lease_until)} of those that exist."""
    query = (
        sa.select(cron_job_run.c.id, cron_job_run.c.status, cron_job_run.c.lease_until)
        .where(cron_job_run.c.id.in_(run_ids))
        .with_for_update()
    )
    return {run_id: (status, lease) for run_id, status, lease in conn.execute(query)}


def _verdict(
    outcome: Outcome, metadata: dict[UUID, Any], runs: dict[UUID, tuple[str, Any]]
) -> Recorded:
    run = runs.get(outcome.claim.run_id)
    if outcome.claim.job.id not in metadata or run is None:
        return Recorded.DELETED
    status, lease_until = run
    if status != RunStatus.RUNNING.value:
        return Recorded.ALREADY_ENDED
    if outcome.lapsed and not _lapsed(lease_until, outcome.finished_at):
        return Recorded.LEASE_RENEWED
    return Recorded.RECORDED


def _lapsed(lease_until: datetime | None, at: datetime) -> bool:
    return lease_until is not None and lease_until < at


def _update_runs(conn: sa.Connection, outcomes: list[Outcome]) -> None:
    conn.execute(
        cron_job_run.update()
        .where(cron_job_run.c.id == sa.bindparam("b_id"))
        .values(
            status=sa.bindparam("b_status"),
            started_at=sa.bindparam("b_started"),
            finished_at=sa.bindparam("b_finished"),
            result=sa.bindparam("b_result", type_=cron_job_run.c.result.type),
            error=sa.bindparam("b_error"),
            log=sa.bindparam("b_log"),
            traceback=sa.bindparam("b_traceback"),
            lease_until=None,
        ),
        [
            {
                "b_id": o.claim.run_id,
                "b_status": o.status.value,
                "b_started": o.started_at,
                "b_finished": o.finished_at,
                "b_result": o.result,
                "b_error": o.error,
                "b_log": o.log,
                "b_traceback": o.traceback,
            }
            for o in outcomes
        ],
    )


def _counted(metadata: dict[UUID, Any], outcomes: list[Outcome]) -> dict[UUID, Any]:
    """The jobs' monitoring keys with the runs counted in them, of the jobs whose keys change
    (only the last attempt of a run counts: the caller leaves out outcomes that will be
    retried; metadata that is not a dict is not ours to count in)."""
    counted = dict(metadata)
    for o in outcomes:
        current = counted[o.claim.job.id]
        if isinstance(current, dict):
            counted[o.claim.job.id] = count_run(current, o.started_at, o.status, o.error)
    return {job_id: value for job_id, value in counted.items() if value is not metadata[job_id]}
