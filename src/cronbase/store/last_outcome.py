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

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from cronbase.jobs import Outcome, RunStatus
from cronbase.store import pg_batches, search
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


def note_ended(
    conn: sa.Connection, outcomes: list[Outcome], metadata: Mapping[UUID, Any] | None = None
) -> None:
    """Recorded endings: each becomes its job's last status unless a run of the job started
    after it (overlap `allow`, or a retry already going) took its place. `metadata`: the new
    monitoring keys of some of these jobs (recording.py counts the runs in them), written by the
    same statement, so that a recorded job's row is updated once. One statement per shape,
    executed for many, one row per job: its newest ending (the last of equals), which is what
    writing them oldest first would leave."""
    newest: dict[UUID, Outcome] = {}
    for o in sorted(outcomes, key=lambda o: o.started_at):
        newest[o.claim.job.id] = o
    metadata = metadata or {}
    if conn.dialect.name == "postgresql":  # one statement for all
        rows = [(j, o.started_at, o.status.value, metadata.get(j)) for j, o in newest.items()]
        pg_batches.note_ended(conn, rows)
        return
    started = sa.bindparam("b_started", type_=UTCDateTime())
    newer = sa.or_(cron_job.c.last_run.is_(None), cron_job.c.last_run <= started)
    values: dict[str, Any] = {
        "last_run": sa.case((newer, started), else_=cron_job.c.last_run),
        "last_status": sa.case((newer, sa.bindparam("b_status")), else_=cron_job.c.last_status),
    }
    update = cron_job.update().where(cron_job.c.id == sa.bindparam("b_id"))
    plain, counting = [], []
    for job_id, o in newest.items():
        row = {"b_id": job_id, "b_started": o.started_at, "b_status": o.status.value}
        if job_id in metadata:
            counting.append({**row, "b_metadata": metadata[job_id]})
        else:
            plain.append(row)
    if plain:
        conn.execute(update.values(**values), plain)
    if counting:
        counted = sa.bindparam("b_metadata", type_=cron_job.c.metadata.type)
        conn.execute(update.values(**values, metadata=counted), counting)


def refresh(
    conn: sa.Connection, job_ids: Iterable[UUID] | None = None, *, keep_unknown: bool = False
) -> None:
    """Set the jobs' (every job's, with None) last run, status and missed count from their
    history: after a claimed run went back to pending unstarted, and once when the columns
    were added. `keep_unknown` keeps the last_run of a job with no run that ran (one its
    history no longer holds, or that plain SQL set)."""
    ids = None if job_ids is None else sorted(set(job_ids))
    jobs = sa.true() if ids is None else cron_job.c.id.in_(ids)
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
    if ids is not None:  # rare (a hand-back): the list's copy at once, not at its refresh
        search.copy_outcomes(conn, ids)
