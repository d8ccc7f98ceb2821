"""The hot path's statements on PostgreSQL: one text each, whatever the size of the batch.

A claim and a recording touch hundreds of rows a transaction. Written as SQLAlchemy Core they
cost more in the client than in the server: an `IN (...)` list or a multi-row VALUES has a new
text for each batch size, so psycopg parses every one anew (a long text is too long for its
cache) and PostgreSQL never gets to prepare it, and an executemany sends a statement per row.
Here the rows travel as arrays, one parameter per column (`= ANY(%(ids)b)`,
`unnest(%(a)b::uuid[], ...)`), so each statement is one fixed text, which psycopg prepares on
the server after a few executions (prepare_threshold) and then only binds; and it is sent as
the driver's SQL (`exec_driver_sql`), with no SQLAlchemy statement built or compiled per call.
The arrays go in binary (`%(name)b`): psycopg writes a text array element by element through
a regular expression, about 4 us a UUID and 6 us a timestamp, and a binary one in 0.2 us.

Predicates that must match a partial index stay literals (rows.py says why). Timestamps come
back aware in the session's zone and are turned to UTC here, as UTCDateTime does elsewhere.
SQLite keeps the Core statements of the modules that call these.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def running_jobs(conn: sa.Connection, job_ids: list[UUID]) -> set[UUID]:
    """Which of the jobs have a run going (ix_cron_job_run_running)."""
    rows = conn.exec_driver_sql(
        "SELECT job_id FROM cron_job_run"
        " WHERE job_id = ANY(%(ids)b::uuid[]) AND cron_job_run.status = 'running'",
        {"ids": job_ids},
    )
    return {job_id for (job_id,) in rows.all()}


_INSERT_RUNNING = (
    'INSERT INTO cron_job_run (id, job_id, tenant_id, scheduled_for, status, "trigger",'
    " started_at, worker_id, lease_until)"
    " SELECT r.id, r.job_id, r.tenant_id, r.slot, 'running', 'schedule',"
    " %(now)s, %(worker)s, %(lease)s"
    " FROM unnest(%(ids)b::uuid[], %(jobs)b::uuid[], %(tenants)b::uuid[],"
    " %(slots)b::timestamptz[]) AS r(id, job_id, tenant_id, slot)"
    # The slot's unique index decides: a slot that has a row already (another worker's claim)
    # is left alone and not returned.
    " ON CONFLICT (job_id, scheduled_for, attempt) WHERE \"trigger\" = 'schedule' DO NOTHING"
    " RETURNING job_id, id"
)


def insert_running(
    conn: sa.Connection,
    runs: Sequence[tuple[UUID, UUID, UUID | None, datetime]],
    now: datetime,
    worker_id: str,
    lease_until: datetime,
) -> dict[UUID, UUID]:
    """Insert running schedule runs `(run id, job id, tenant id, slot)`, ids made here;
    return {job id: run id} of those inserted."""
    ids, jobs, tenants, slots = (list(column) for column in zip(*runs, strict=True))
    params = {"ids": ids, "jobs": jobs, "tenants": tenants, "slots": slots}
    params.update(now=now, worker=worker_id, lease=lease_until)
    return dict(conn.exec_driver_sql(_INSERT_RUNNING, params).all())  # type: ignore[arg-type]


_MOVE_ON = (
    "UPDATE cron_job SET next_run = v.next_run, last_run = v.last_run,"
    " last_status = v.last_status, missed_since_last_run = v.missed"
    " FROM unnest(%(ids)b::uuid[], %(next)b::timestamptz[], %(last)b::timestamptz[],"
    " %(status)b::text[], %(missed)b::int[]) AS v(id, next_run, last_run, last_status, missed)"
    " WHERE cron_job.id = v.id"
)


def move_on(conn: sa.Connection, rows: Iterable[dict[str, Any]]) -> None:
    """Set claimed jobs' next_run and last outcome: rows as claims._moved_on makes them."""
    rows = list(rows)
    conn.exec_driver_sql(
        _MOVE_ON,
        {
            "ids": [row["b_id"] for row in rows],
            "next": [row["b_next"] for row in rows],
            "last": [row["b_last"] for row in rows],
            "status": [row["b_status"] for row in rows],
            "missed": [row["b_missed"] for row in rows],
        },
    )


_LOCK_JOBS = (
    "SELECT id, metadata, alerting_since,"
    " EXISTS (SELECT 1 FROM cron_job_dependency d WHERE d.upstream_id = cron_job.id),"
    " EXISTS (SELECT 1 FROM cron_channel)"  # not correlated: evaluated once
    " FROM cron_job WHERE id = ANY(%(ids)b::uuid[]) ORDER BY id FOR UPDATE"
)


def lock_jobs(conn: sa.Connection, job_ids: list[UUID]) -> list[tuple[UUID, Any, Any, bool, bool]]:
    """Lock the jobs' rows in id order; (id, metadata, alerting_since, has dependents, any
    channel exists) each."""
    rows = conn.exec_driver_sql(_LOCK_JOBS, {"ids": job_ids})
    return [(job_id, meta, _utc(since), deps, any_) for job_id, meta, since, deps, any_ in rows]


def lock_runs(conn: sa.Connection, run_ids: list[UUID]) -> dict[UUID, tuple[str, Any]]:
    """Lock the runs' rows; {run id: (status, lease_until)} of those that exist."""
    rows = conn.exec_driver_sql(
        "SELECT id, status, lease_until FROM cron_job_run WHERE id = ANY(%(ids)b::uuid[])"
        " FOR UPDATE",
        {"ids": run_ids},
    )
    return {run_id: (status, _utc(lease)) for run_id, status, lease in rows.all()}


_END_RUNS = (
    "UPDATE cron_job_run SET status = v.status, started_at = v.started_at,"
    " finished_at = v.finished_at, result = v.result::jsonb, error = v.error, log = v.log,"
    " traceback = v.traceback, lease_until = NULL"
    " FROM unnest(%(ids)b::uuid[], %(status)b::text[], %(started)b::timestamptz[],"
    " %(finished)b::timestamptz[], %(result)b::text[], %(error)b::text[], %(log)b::text[],"
    " %(traceback)b::text[], %(lapsed)b::bool[])"
    " AS v(id, status, started_at, finished_at, result, error, log, traceback, lapsed)"
    # Only a run still going, and for an outcome built for a lapsed lease, only while that
    # lease is still lapsed (its owner may have renewed it): what recording.py's verdicts
    # say, decided by the row as this statement locks it.
    " WHERE cron_job_run.id = v.id AND cron_job_run.status = 'running'"
    " AND (NOT v.lapsed OR cron_job_run.lease_until < v.finished_at)"
    " RETURNING cron_job_run.id"
)


def end_runs(conn: sa.Connection, outcomes: Sequence[Any]) -> set[UUID]:
    """Write how the runs of these Outcomes ended, in one statement, where they may still be
    recorded; return the ids of the runs it wrote."""
    rows = conn.exec_driver_sql(
        _END_RUNS,
        {
            "ids": [o.claim.run_id for o in outcomes],
            "status": [o.status.value for o in outcomes],
            "started": [o.started_at for o in outcomes],
            "finished": [o.finished_at for o in outcomes],
            "result": [_json(o.result) for o in outcomes],
            "error": [o.error for o in outcomes],
            "log": [o.log for o in outcomes],
            "traceback": [o.traceback for o in outcomes],
            "lapsed": [o.lapsed for o in outcomes],
        },
    )
    return {run_id for (run_id,) in rows.all()}


_NOTE_ENDED = (
    # A job's last run is replaced only by one that started at or after it (see
    # last_outcome.note_ended); metadata NULL: the monitoring keys stay as they are.
    "UPDATE cron_job SET"
    " last_run = CASE WHEN cron_job.last_run IS NULL OR cron_job.last_run <= v.started"
    " THEN v.started ELSE cron_job.last_run END,"
    " last_status = CASE WHEN cron_job.last_run IS NULL OR cron_job.last_run <= v.started"
    " THEN v.status ELSE cron_job.last_status END,"
    " metadata = COALESCE(v.metadata::jsonb, cron_job.metadata)"
    " FROM unnest(%(ids)b::uuid[], %(started)b::timestamptz[], %(status)b::text[],"
    " %(metadata)b::text[]) AS v(id, started, status, metadata)"
    " WHERE cron_job.id = v.id"
)


def note_ended(conn: sa.Connection, rows: Sequence[tuple[UUID, datetime, str, Any]]) -> None:
    """One row per job: (id, started_at, status, new metadata or None to keep it)."""
    conn.exec_driver_sql(
        _NOTE_ENDED,
        {
            "ids": [row[0] for row in rows],
            "started": [row[1] for row in rows],
            "status": [row[2] for row in rows],
            "metadata": [_json(row[3]) for row in rows],
        },
    )
