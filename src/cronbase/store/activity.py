"""The runs of recent minutes, counted by the database: one GROUP BY minute over the runs that
started since a given instant (read through ix_cron_job_run_started)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from cronbase.activity import MinuteActivity
from cronbase.jobs import FAILURE_STATUSES, RunTrigger, job_offset
from cronbase.store.tables import cron_job, cron_job_run


class minute_number(FunctionElement[int]):
    """Whole minutes since the Unix epoch of a timestamp: the minute it falls in.

    Written without bind parameters, so the same expression in SELECT and GROUP BY is the
    same SQL text, which PostgreSQL requires.
    """

    type = sa.BigInteger()
    inherit_cache = True


@compiles(minute_number, "postgresql")
def _minute_number_postgresql(element: minute_number, compiler: Any, **kw: Any) -> str:
    # date_part() computes in double precision; extract() in numeric, several times slower.
    return (
        f"CAST(floor(date_part('epoch', {compiler.process(element.clauses, **kw)}) / 60) AS BIGINT)"
    )


@compiles(minute_number, "sqlite")
def _minute_number_sqlite(element: minute_number, compiler: Any, **kw: Any) -> str:
    # strftime('%s') reads any ISO 8601 form; integer division of a positive number floors.
    return f"(CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER) / 60)"


class seconds_between(FunctionElement[float]):
    """seconds_between(later, earlier): the time from one timestamp to the other, in seconds
    with their fractions."""

    type = sa.Float()
    inherit_cache = True


@compiles(seconds_between, "postgresql")
def _seconds_between_postgresql(element: seconds_between, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"date_part('epoch', {later} - {earlier})"


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element: seconds_between, compiler: Any, **kw: Any) -> str:
    # julianday() keeps fractions of a second (to about 20 us at today's dates).
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def minute_activity(
    conn: sa.Connection, since: datetime, tenant_id: UUID | None
) -> list[MinuteActivity]:
    """Per minute since `since`, the runs that started in it (of `tenant_id`'s jobs, if given):
    how many, how many failed, their mean and greatest start lag. Quiet minutes are left out.

    Start lag as cronbase.jobs.start_lag defines it, from the slot plus the job's jitter
    offset. The offset is computed from the job's id and schedule, which SQL cannot do: the
    database sums the lag from the slot per minute, and apart for each staggered job's
    scheduled runs, whose offset is then taken off here (one row per minute otherwise).
    """
    runs, jobs = cron_job_run.c, cron_job.c
    minute = minute_number(runs.started_at)
    staggered = sa.case(
        (sa.and_(jobs.jitter_seconds > 0, runs.trigger == RunTrigger.SCHEDULE.value), runs.job_id)
    )
    lag = seconds_between(runs.started_at, runs.scheduled_for)
    failed = sa.case((runs.status.in_(sorted(FAILURE_STATUSES)), 1), else_=0)
    query = (
        sa.select(
            minute.label("minute"),
            staggered.label("job_id"),
            sa.func.count().label("runs"),
            sa.func.sum(failed).label("failures"),
            sa.func.sum(lag).label("lag"),
            sa.func.max(lag).label("max_lag"),
        )
        .select_from(cron_job_run.join(cron_job, jobs.id == runs.job_id))
        .where(runs.started_at >= since)
        .group_by(minute, staggered)
    )
    if tenant_id is not None:
        # The job's tenant now, as the job's own pages show its history.
        query = query.where(jobs.tenant_id == tenant_id)
    rows = conn.execute(query).all()
    offsets = _offsets(conn, {row.job_id for row in rows if row.job_id is not None})
    counted: dict[int, list[Any]] = {}
    for row in rows:
        offset = offsets.get(row.job_id, 0.0)
        minute_rows = counted.setdefault(row.minute, [0, 0, 0.0, None])
        minute_rows[0] += row.runs
        minute_rows[1] += int(row.failures)
        minute_rows[2] += float(row.lag) - offset * row.runs
        greatest = float(row.max_lag) - offset
        minute_rows[3] = greatest if minute_rows[3] is None else max(minute_rows[3], greatest)
    return [
        MinuteActivity(
            minute=datetime.fromtimestamp(number * 60, UTC),
            runs=count,
            failures=failures,
            mean_lag_ms=round(total / count * 1000),
            max_lag_ms=round(greatest * 1000),
        )
        for number, (count, failures, total, greatest) in sorted(counted.items())
    ]


def _offsets(conn: sa.Connection, job_ids: set[UUID]) -> dict[UUID, float]:
    """The jitter offsets of these jobs, in seconds (cronbase.jobs.job_offset)."""
    if not job_ids:
        return {}
    query = sa.select(
        cron_job.c.id, cron_job.c.schedule, cron_job.c.timezone, cron_job.c.jitter_seconds
    ).where(cron_job.c.id.in_(sorted(job_ids)))
    return {job.id: job_offset(job).total_seconds() for job in conn.execute(query)}
