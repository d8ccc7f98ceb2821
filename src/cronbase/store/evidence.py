"""The facts behind a job's state (why it did not run: cronbase.explain): its runs going and
waiting, its newest missed row and the slots skipped since its last run, in one read."""

from __future__ import annotations

import sqlalchemy as sa

from cronbase.explain import Evidence, PendingRun
from cronbase.jobs import Job, RunStatus, RunTrigger
from cronbase.store.tables import cron_job_run

_LIVE = (RunStatus.RUNNING.value, RunStatus.PENDING.value)


def job_evidence(conn: sa.Connection, job: Job) -> Evidence:
    runs = cron_job_run.c
    # Runs going or waiting: few rows, read from the partial indexes of running/pending rows.
    live = conn.execute(
        sa.select(runs.status, runs.started_at, runs.run_after, runs.attempt, runs.trigger)
        .where(runs.job_id == job.id, runs.status.in_(_LIVE))
        .order_by(runs.run_after, runs.started_at)
    ).all()
    started = [row.started_at for row in live if row.status == RunStatus.RUNNING.value]
    pending = tuple(
        PendingRun(row.run_after, row.attempt, RunTrigger(row.trigger))
        for row in live
        if row.status == RunStatus.PENDING.value and row.run_after is not None
    )
    # The newest missed row, backwards along ix_cron_job_run_slots.
    missed = conn.execute(
        sa.select(runs.scheduled_for, runs.error)
        .where(runs.job_id == job.id, runs.status == RunStatus.MISSED.value)
        .order_by(runs.scheduled_for.desc())
        .limit(1)
    ).first()
    skipped = sa.select(sa.func.count(), sa.func.max(runs.scheduled_for)).where(
        runs.job_id == job.id, runs.status == RunStatus.SKIPPED.value
    )
    if job.last_run is not None:
        skipped = skipped.where(runs.scheduled_for >= job.last_run)
    skip_count, last_skipped = conn.execute(skipped).one()
    return Evidence(
        running=len(started),
        running_since=min((s for s in started if s is not None), default=None),
        pending=pending,
        last_missed_at=missed.scheduled_for if missed else None,
        last_missed_reason=missed.error if missed else None,
        skipped_since_last_run=int(skip_count),
        last_skipped_at=last_skipped,
    )
