"""Recording how runs ended: every ending (a result, an error, a timeout, a shutdown, a lapsed
lease) arrives as an Outcome built beforehand, and goes through record_outcomes, which also
writes the notifications of the final attempts to the outbox, in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from cronbase.jobs import Outcome, Recorded, RunStatus
from cronbase.monitoring import count_run
from cronbase.notify.events import run_events
from cronbase.store import last_outcome, pg_batches
from cronbase.store.alerts import episodes_of_runs
from cronbase.store.notification_tables import cron_channel
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
    jobs = _lock_jobs(conn, dialect, {outcome.claim.job.id for outcome in outcomes})
    verdicts = _end_runs(conn, dialect, outcomes, jobs.metadata)
    recorded = [o for o, v in zip(outcomes, verdicts, strict=True) if v is Recorded.RECORDED]
    if recorded:
        retries = [retry_row(o.claim, o.retry_at) for o in recorded if o.retry_at is not None]
        if retries:
            conn.execute(run_insert(dialect), retries)
        final = [o for o in recorded if o.retry_at is None]
        # In this transaction: the alert exists if and only if the run's ending does.
        # A job's first success after an alert closes its episode (job.recovered).
        recovered = episodes_of_runs(conn, final, jobs.alerting_since)
        if jobs.channels:  # with no channel at all, no event has anywhere to go
            add_events(conn, dialect, run_events(final) + recovered, quiet)
        # The jobs' last outcome and run counts: one update of each job's row.
        last_outcome.note_ended(conn, recorded, _counted(jobs.metadata, final))
        # In this transaction too: the runs of the jobs that depend on these.
        trigger_dependents(conn, dialect, [o for o in final if o.claim.job.id in jobs.depended_on])
    return verdicts


@dataclass
class _Locked:
    """What recording needs of the jobs it locked: the metadata and alert episode of those
    that still exist, which of them other jobs depend on, and whether any channel exists."""

    metadata: dict[UUID, Any] = field(default_factory=dict)
    alerting_since: dict[UUID, datetime | None] = field(default_factory=dict)
    depended_on: set[UUID] = field(default_factory=set)
    channels: bool = False


def _lock_jobs(conn: sa.Connection, dialect: str, job_ids: set[UUID]) -> _Locked:
    """Lock the jobs' rows, in id order, and read in that statement what recording needs of
    them (_Locked): asked here, so that where no job has dependents, starting them costs no
    statement of its own, the alert episodes are not read again, and whether any channel
    exists costs no round trip of its own."""
    if dialect == "postgresql":
        rows = pg_batches.lock_jobs(conn, sorted(job_ids))
    else:
        has_dependents = sa.exists().where(cron_job_dependency.c.upstream_id == cron_job.c.id)
        query = (
            sa.select(
                cron_job.c.id,
                cron_job.c.metadata,
                cron_job.c.alerting_since,
                has_dependents,
                sa.exists().select_from(cron_channel),
            )
            .where(cron_job.c.id.in_(sorted(job_ids)))
            .order_by(cron_job.c.id)
            .with_for_update()
        )
        rows = [tuple(row) for row in conn.execute(query)]
    locked = _Locked(channels=bool(rows) and bool(rows[0][4]))
    for job_id, metadata, alerting_since, depended_on, _ in rows:
        locked.metadata[job_id] = metadata
        locked.alerting_since[job_id] = alerting_since
        if depended_on:
            locked.depended_on.add(job_id)
    return locked


def _end_runs(
    conn: sa.Connection, dialect: str, outcomes: list[Outcome], metadata: dict[UUID, Any]
) -> list[Recorded]:
    """Write the endings of the runs that may still be recorded (see _verdict); say for each
    outcome what happened. On PostgreSQL the UPDATE itself decides, by the rows it locks, and
    the runs it did not write are read for why (rarely any): one statement instead of a
    locking read and an update. On SQLite the runs are read and then written."""
    if dialect != "postgresql":
        runs = _lock_runs(conn, [outcome.claim.run_id for outcome in outcomes])
        verdicts = [_verdict(outcome, metadata, runs) for outcome in outcomes]
        ending = [o for o, v in zip(outcomes, verdicts, strict=True) if v is Recorded.RECORDED]
        if ending:
            _update_runs(conn, ending)
        return verdicts
    ending = [outcome for outcome in outcomes if outcome.claim.job.id in metadata]
    ended = pg_batches.end_runs(conn, ending) if ending else set()
    others = [outcome.claim.run_id for outcome in outcomes if outcome.claim.run_id not in ended]
    runs = pg_batches.lock_runs(conn, others) if others else {}
    return [
        Recorded.RECORDED if outcome.claim.run_id in ended else _verdict(outcome, metadata, runs)
        for outcome in outcomes
    ]


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
