"""The facts behind a job's state (why it did not run: cronbase.explain): its runs going and
waiting, its newest missed row and the slots skipped since its last run, in one read."""

from __future__ import annotations

import sqlalchemy as sa

from cronbase.explain import Evidence, PendingRun
from cronbase.jobs import Job, RunStatus, RunTrigger
from cronbase.store.rows import PENDING, RUNNING, known
from cronbase.store.tables import cron_job_run

MAX_SKIPS_COUNTED = 1000


def job_evidence(conn: sa.Connection, job: Job) -> Evidence:
    runs = cron_job_run.c
    # Runs going or waiting: few rows, from the partial indexes of running and pending rows
    # (literals, which those indexes match; see rows.py).
    live = conn.execute(
        sa.select(runs.status, runs.started_at, runs.run_after, runs.attempt, runs.trigger)
        .where(runs.job_id == job.id, sa.or_(RUNNING, PENDING))
        .order_by(runs.run_after, runs.started_at)
    ).all()
    started = [row.started_at for row in live if row.status == RunStatus.RUNNING.value]
    pending = tuple(
        PendingRun(row.run_after, row.attempt, known(RunTrigger, row.trigger))
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
    # Counted newest first along ix_cron_job_run_slots and cut at MAX_SKIPS_COUNTED, so a
    # job that never ran (no last_run to count from) costs no walk of its whole history.
    newest_skips = (
        sa.select(runs.scheduled_for)
        .where(runs.job_id == job.id, runs.status == RunStatus.SKIPPED.value)
        .order_by(runs.scheduled_for.desc())
        .limit(MAX_SKIPS_COUNTED)
    )
    if job.last_run is not None:
        newest_skips = newest_skips.where(runs.scheduled_for >= job.last_run)
    cut = newest_skips.subquery()
    skipped = sa.select(sa.func.count(), sa.func.max(cut.c.scheduled_for))
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
