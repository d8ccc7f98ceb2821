"""Read-only questions about the runs: what is due, what runs, what failed, the history."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from cronbase.activity import RunTiming
from cronbase.jobs import Job, Run, RunStatus, RunTrigger, job_offset
from cronbase.listing import RUN_ORDER, RunQuery
from cronbase.overdue import MIN_OVERDUE_AFTER, is_overdue
from cronbase.store import keyset
from cronbase.store.rows import (
    PENDING,
    RUN_LISTED,
    RUNNING,
    due,
    job_from_row,
    known,
    run_from_row,
)
from cronbase.store.tables import (
    UNSUCCESSFUL,
    UNSUCCESSFUL_STATUSES,
    cron_job,
    cron_job_run,
    cron_run_tally,
)
from cronbase.store.types import timestamp_key


def due_jobs(conn: sa.Connection, now: datetime) -> dict[UUID, UUID | None]:
    query = sa.select(cron_job.c.id, cron_job.c.tenant_id).where(due(now))
    return {job_id: tenant_id for job_id, tenant_id in conn.execute(query)}  # noqa: C416


def earliest_next_run(conn: sa.Connection) -> datetime | None:
    # Served by ix_cron_job_due and ix_cron_job_run_pending.
    job = sa.select(sa.func.min(timestamp_key(cron_job.c.next_run))).where(cron_job.c.is_active)
    # Only pending runs that could start: not a paused job's retries (unless manual).
    pending = (
        sa.select(sa.func.min(cron_job_run.c.run_after))
        .join(cron_job, cron_job.c.id == cron_job_run.c.job_id)
        .where(
            PENDING,
            sa.or_(cron_job.c.is_active, cron_job_run.c.trigger == RunTrigger.MANUAL.value),
        )
    )
    times = [conn.execute(job).scalar_one(), conn.execute(pending).scalar_one()]
    return min((t for t in times if t is not None), default=None)


def runs_in_progress(conn: sa.Connection) -> list[tuple[Run, str]]:
    query = (
        sa.select(*RUN_LISTED, cron_job.c.name.label("job_name"))
        .join(cron_job, cron_job.c.id == cron_job_run.c.job_id)
        .where(cron_job_run.c.status == RunStatus.RUNNING.value)
        .order_by(cron_job_run.c.started_at)
    )
    return [(run_from_row(row._mapping), row.job_name) for row in conn.execute(query)]


def due_count(conn: sa.Connection, now: datetime) -> int:
    return int(conn.execute(sa.select(sa.func.count()).where(due(now))).scalar_one())


def overdue_query(now: datetime) -> sa.Select[Any]:
    """The candidates of overdue_jobs, longest overdue first: active jobs due for at least the
    shortest grace (a range of ix_cron_job_due, nearly empty while workers keep up) with no
    run going (ix_cron_job_run_running) or waiting. still_overdue then applies the rule."""
    in_flight = sa.exists().where(
        cron_job_run.c.job_id == cron_job.c.id,
        sa.or_(RUNNING, PENDING),  # literals, to match the partial indexes (see rows.py)
    )
    return (
        sa.select(cron_job)
        .where(due(now - MIN_OVERDUE_AFTER), sa.not_(in_flight))
        .order_by(timestamp_key(cron_job.c.next_run), cron_job.c.id)
    )


def still_overdue(rows: Iterable[Any], now: datetime) -> list[Job]:
    """The jobs of candidate rows that cronbase.overdue calls overdue (each its own grace)."""
    jobs = (job_from_row(row) for row in rows)
    return [job for job in jobs if is_overdue(job, now, run_in_flight=False)]


def overdue_jobs(conn: sa.Connection, now: datetime, tenant_id: UUID | None) -> list[Job]:
    """The jobs cronbase.overdue calls overdue at `now`, longest overdue first."""
    query = overdue_query(now)
    if tenant_id is not None:
        query = query.where(cron_job.c.tenant_id == tenant_id)
    return still_overdue(conn.execute(query), now)


def job_counts(conn: sa.Connection) -> dict[bool, int]:
    """{is_active: how many jobs}, in one pass over cron_job."""
    query = sa.select(cron_job.c.is_active, sa.func.count()).group_by(cron_job.c.is_active)
    return {bool(active): int(count) for active, count in conn.execute(query)}


def run_counts(conn: sa.Connection) -> dict[RunStatus, int]:
    """{status: runs}: for the statuses a run ends in, how many were recorded so far (the
    tally the triggers keep, a few rows whatever the history's size, never lowered by
    pruning); for pending and running, how many rows have it now (their partial indexes)."""
    tally = cron_run_tally.c
    recorded = sa.select(tally.status, sa.func.sum(tally.runs)).group_by(tally.status)
    runs = cron_job_run.c
    going = sa.select(runs.status, sa.func.count()).where(sa.or_(RUNNING, PENDING))
    rows = [*conn.execute(recorded), *conn.execute(going.group_by(runs.status))]
    return {known(RunStatus, status): int(count) for status, count in rows}


# The tally's rows of PostgreSQL connections that ended, added into shard 0 and deleted, in one
# statement (a scrape sees the sum before or after, never in between). Each connection counts
# into a row of its own (migration 0019); every new connection (a `cronbase run-due` a minute,
# a pool's overflow) would otherwise leave rows behind for good, and a scrape sum them all.
# Live connections' rows are left alone, so no recording waits on this; two folds at once
# delete each row once.
_FOLD_ENDED_SHARDS = sa.text(
    """
    WITH moved AS (
        DELETE FROM cron_run_tally
        WHERE shard <> 0 AND shard NOT IN (SELECT pid FROM pg_stat_activity WHERE pid IS NOT NULL)
        RETURNING status, runs
    )
    INSERT INTO cron_run_tally (status, shard, runs)
    SELECT status, 0, sum(runs) FROM moved GROUP BY status ORDER BY status
    ON CONFLICT (status, shard) DO UPDATE SET runs = cron_run_tally.runs + EXCLUDED.runs
    """
)


def fold_run_tally(conn: sa.Connection, dialect: str) -> None:
    """Fold the tally's rows of ended connections into one per status (PostgreSQL; SQLite
    counts into one row per status already)."""
    if dialect == "postgresql":
        conn.execute(_FOLD_ENDED_SHARDS)


def failing_jobs(conn: sa.Connection) -> list[Job]:
    jobs = [
        job_from_row(row) for row in conn.execute(sa.select(cron_job).where(cron_job.c.is_active))
    ]
    return [
        job for job in jobs if isinstance(job.metadata, dict) and job.metadata.get("last_error")
    ]


# A job's history, newest first: by the slot each row stands for (every row has one, unlike
# started_at), then attempt. Served by ix_cron_job_run_slots.
def _newest_first(runs: sa.TableClause) -> list[sa.ColumnElement[object]]:
    return [runs.c.scheduled_for.desc(), runs.c.attempt.desc(), runs.c.id.desc()]


def list_runs(conn: sa.Connection, job_id: UUID, query: RunQuery) -> list[Run]:
    select = sa.select(*RUN_LISTED).where(cron_job_run.c.job_id == job_id)
    if query.status is not None:
        select = select.where(cron_job_run.c.status == query.status)
        if query.status in UNSUCCESSFUL_STATUSES:
            # The partial index's predicate as written: a statement prepared for any status
            # (PostgreSQL) and SQLite, which proves little, then both read that index.
            select = select.where(sa.text(UNSUCCESSFUL))
    rows = keyset.read_page(
        conn, select, cron_job_run, RUN_ORDER, query.after, query.limit, query.offset
    )
    return [run_from_row(row) for row in rows]


def get_run(conn: sa.Connection, job_id: UUID, run_id: UUID) -> Run | None:
    query = sa.select(cron_job_run).where(
        cron_job_run.c.id == run_id, cron_job_run.c.job_id == job_id
    )
    row = conn.execute(query).first()
    return None if row is None else run_from_row(row)


def latest_runs(
    conn: sa.Connection, job_ids: Iterable[UUID], tenant_id: UUID | None
) -> dict[UUID, Run]:
    """One query for all the jobs: per job, a correlated subquery reads the id of its newest
    run from ix_cron_job_run_slots (one index probe each, however long the history)."""
    newest = cron_job_run.alias("newest")
    newest_id = (
        sa.select(newest.c.id)
        .where(newest.c.job_id == cron_job.c.id)
        .order_by(*_newest_first(newest))
        .limit(1)
        .scalar_subquery()
    )
    jobs = sa.select(newest_id).where(cron_job.c.id.in_(sorted(set(job_ids))))
    if tenant_id is not None:
        jobs = jobs.where(cron_job.c.tenant_id == tenant_id)
    query = sa.select(*RUN_LISTED).where(cron_job_run.c.id.in_(jobs))
    return {run.job_id: run for run in map(run_from_row, conn.execute(query))}


_TIMING_COLUMNS = [
    cron_job_run.c.id,
    cron_job_run.c.job_id,
    cron_job_run.c.status,
    cron_job_run.c.scheduled_for,
    cron_job_run.c.started_at,
    cron_job_run.c.finished_at,
    cron_job_run.c.attempt,
    cron_job_run.c.trigger,
]


# What a job's jitter offset derives from (cronbase.jobs.job_offset).
_OFFSET_COLUMNS = [
    cron_job.c.id,
    cron_job.c.schedule,
    cron_job.c.timezone,
    cron_job.c.jitter_seconds,
]


def _newest_of(job_id: sa.ColumnElement[UUID], limit: int) -> sa.Select[tuple[object, ...]]:
    """The job's `limit` newest runs that have an outcome or are going (not pending): a
    backward walk of ix_cron_job_run_slots that stops after `limit` rows."""
    return (
        sa.select(*_TIMING_COLUMNS)
        .where(cron_job_run.c.job_id == job_id, cron_job_run.c.status != RunStatus.PENDING.value)
        .order_by(*_newest_first(cron_job_run))
        .limit(limit)
    )


def recent_runs(
    conn: sa.Connection, dialect: str, job_ids: Iterable[UUID], limit: int, tenant_id: UUID | None
) -> dict[UUID, list[RunTiming]]:
    """The newest `limit` runs of each job, oldest first, in one query on the run table.

    A window function (row_number() per job) would number every run of every job before
    keeping 20: the whole history. Instead each job's runs are read newest first from the
    index and cut at `limit`: on PostgreSQL with a LATERAL subquery per job, on SQLite (which
    has no LATERAL) with one such subquery per job joined by UNION ALL.
    """
    # Each job's schedule comes along, for its jitter offset (the runs' start lag).
    jobs = sa.select(*_OFFSET_COLUMNS).where(cron_job.c.id.in_(sorted(set(job_ids))))
    if tenant_id is not None:
        jobs = jobs.where(cron_job.c.tenant_id == tenant_id)
    query: sa.Select[tuple[object, ...]] | sa.CompoundSelect
    if dialect == "postgresql":
        visible = jobs.subquery("visible")
        newest = _newest_of(visible.c.id, limit).lateral("newest")
        jobs_columns = (visible.c.schedule, visible.c.timezone, visible.c.jitter_seconds)
        query = sa.select(newest, *jobs_columns).select_from(visible.join(newest, sa.true()))
        offsets: dict[UUID, timedelta] = {}
    else:
        visible_jobs = conn.execute(jobs).all()
        if not visible_jobs:
            return {}
        offsets = {job.id: job_offset(job) for job in visible_jobs}
        parts = [
            sa.select(_newest_of(sa.literal(job.id, sa.Uuid()), limit).subquery())
            for job in visible_jobs
        ]
        query = sa.union_all(*parts)
    found: dict[UUID, list[RunTiming]] = {}
    for row in conn.execute(query):
        timing = {column.name: row._mapping[column.name] for column in _TIMING_COLUMNS}
        if row.job_id not in offsets:  # PostgreSQL: each row carries its job's schedule
            offsets[row.job_id] = job_offset(SimpleNamespace(**{**row._mapping, "id": row.job_id}))
        offset = offsets[row.job_id]
        timing |= {
            "status": known(RunStatus, row.status),
            "trigger": known(RunTrigger, row.trigger),
        }
        run = RunTiming(**timing, offset=offset)
        found.setdefault(run.job_id, []).append(run)
    # Neither database promises the order of rows coming out of a join or a UNION ALL.
    return {job_id: sorted(runs, key=_oldest_first) for job_id, runs in found.items()}


def _oldest_first(run: RunTiming) -> tuple[datetime, int, UUID]:
    return (run.scheduled_for, run.attempt, run.id)
