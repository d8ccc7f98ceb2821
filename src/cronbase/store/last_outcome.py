"""A job's last run that ran, kept on its row: `last_run` (when that run started), `last_status`
and `missed_since_last_run`, so that lists can show, filter and sort on them without reading
the history.

"Ran" means running, succeeded, failed, timed_out or abandoned, whatever started the run (the
schedule, a retry, a manual run); missed, skipped and pending rows never ran. They are kept
where runs start (claims.py: a scheduled slot's claim moves them with next_run; `note_started`
for pending runs), where runs end (`note_ended`, from recording.py) and where a claimed run is
handed back unstarted (`refresh`, from the history).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from cronbase.jobs import Outcome, RunStatus
from cronbase.store.tables import cron_job, cron_job_run
from cronbase.store.types import UTCDateTime

RAN = (
    RunStatus.RUNNING,
    RunStatus.SUCCEEDED,
    RunStatus.FAILED,
    RunStatus.TIMED_OUT,
    RunStatus.ABANDONED,
)


def note_started(conn: sa.Connection, job_ids: Iterable[UUID], now: datetime) -> None:
    """Runs of these jobs started at `now`: each is now its job's last run, and no slot has
    been missed since."""
    ids = sorted(set(job_ids))
    if ids:
        conn.execute(
            cron_job.update()
            .where(cron_job.c.id.in_(ids))
            .values(last_run=now, last_status=RunStatus.RUNNING.value, missed_since_last_run=0)
        )


def note_ended(conn: sa.Connection, outcomes: list[Outcome]) -> None:
    """Recorded endings: each becomes its job's last status unless a run of the job started
    after it (overlap `allow`, or a retry already going) took its place. One statement,
    executed for many, oldest start first so that the newest wins within a batch."""
    if not outcomes:
        return
    started = sa.bindparam("b_started", type_=UTCDateTime())
    conn.execute(
        cron_job.update()
        .where(
            cron_job.c.id == sa.bindparam("b_id"),
            sa.or_(cron_job.c.last_run.is_(None), cron_job.c.last_run <= started),
        )
        .values(last_run=started, last_status=sa.bindparam("b_status")),
        [
            {"b_id": o.claim.job.id, "b_started": o.started_at, "b_status": o.status.value}
            for o in sorted(outcomes, key=lambda o: o.started_at)
        ],
    )


def refresh(
    conn: sa.Connection, job_ids: Iterable[UUID] | None = None, *, keep_unknown: bool = False
) -> None:
    """Set the jobs' (every job's, with None) last run, status and missed count from their
    history: after a claimed run went back to pending unstarted, and once when the columns
    were added. `keep_unknown` keeps the last_run of a job with no run that ran (one its
    history no longer holds, or that plain SQL set)."""
    jobs = sa.true() if job_ids is None else cron_job.c.id.in_(sorted(set(job_ids)))
    newest = (
        sa.select(cron_job_run.c.started_at, cron_job_run.c.status)
        .where(
            cron_job_run.c.job_id == cron_job.c.id,
            cron_job_run.c.status.in_([status.value for status in RAN]),
            cron_job_run.c.started_at.is_not(None),
        )
        .order_by(cron_job_run.c.started_at.desc())
        .limit(1)
    )
    started = newest.with_only_columns(cron_job_run.c.started_at).scalar_subquery()
    status = newest.with_only_columns(cron_job_run.c.status).scalar_subquery()
    conn.execute(
        cron_job.update()
        .where(jobs)
        .values(
            last_run=sa.func.coalesce(started, cron_job.c.last_run) if keep_unknown else started,
            last_status=status,
        )
    )
    # A second statement: the first one's new last_run is what "since" counts from.
    missed = (
        sa.select(
            sa.func.coalesce(sa.func.sum(cron_job_run.c.result["missed_slots"].as_integer()), 0)
        )
        .where(
            cron_job_run.c.job_id == cron_job.c.id,
            cron_job_run.c.status == RunStatus.MISSED.value,
            sa.or_(cron_job.c.last_run.is_(None), cron_job_run.c.finished_at > cron_job.c.last_run),
        )
        .scalar_subquery()
    )
    conn.execute(cron_job.update().where(jobs).values(missed_since_last_run=missed))
