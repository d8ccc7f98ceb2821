"""What the store's modules share: rows read back as domain objects, the run rows they write,
and the predicates spelled to match partial indexes."""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from cronbase.jobs import Claim, Job, Missed, Run, RunStatus, RunTrigger, isoformat, stored_job
from cronbase.store import pg_batches
from cronbase.store.engine import dialect_insert
from cronbase.store.tables import cron_job, cron_job_run
from cronbase.store.types import instant_key, timestamp_key

logger = logging.getLogger(__name__)

# Literals, not bind parameters: once psycopg prepares a statement, PostgreSQL cannot match a
# parameterised predicate to a partial index. Each is the predicate of the index it names.
SCHEDULED_SLOT = "trigger = 'schedule'"  # uq_cron_job_run_slot
PENDING = sa.text("cron_job_run.status = 'pending'")  # ix_cron_job_run_pending
RUNNING = sa.text("cron_job_run.status = 'running'")  # ix_cron_job_run_running, _leases
KEYED = "trigger_key IS NOT NULL"  # uq_cron_job_run_trigger_key


# The job's column names, once: iterating the table's ColumnCollection for every row read
# took a fifth of a busy worker's CPU.
_JOB_COLUMNS = tuple(column.name for column in cron_job.c)


def job_from_row(row: Any, prefix: str = "") -> Job:
    """The job in `row`, whose columns carry `prefix` where a query reads them with others."""
    mapping = row._mapping
    return stored_job({name: mapping[prefix + name] for name in _JOB_COLUMNS})


def job_from_leading(row: Any) -> Job:
    """The job in a row that begins with the table's columns in order (`select(cron_job,
    ...)`): read by position, which the claims do for hundreds of rows a batch."""
    return stored_job(dict(zip(_JOB_COLUMNS, row, strict=False)))


def among(conn: sa.Connection, column: sa.Column[Any], values: list[Any]) -> sa.ColumnElement[bool]:
    """`column` is one of `values`. On PostgreSQL one array parameter (`= ANY(...)`): the
    statement's text is the same whatever the number of values, so it is compiled, converted
    and prepared once, where `IN (...)` is rendered anew for each length of list."""
    if conn.dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, values, type_=postgresql.ARRAY(column.type)))
    return column.in_(values)


# A run's log and traceback, up to 64 KiB each, are read for one run at a time; listings
# select the other columns and get runs whose log and traceback are None.
RUN_TEXTS = ("log", "traceback")
RUN_LISTED = [column for column in cron_job_run.c if column.name not in RUN_TEXTS]


def run_from_row(row: Any) -> Run:
    mapping = getattr(row, "_mapping", row)  # a Row, or a Row's mapping with extra columns
    values = {column.name: mapping[column.name] for column in RUN_LISTED}
    values.update({name: mapping[name] for name in RUN_TEXTS if name in mapping})
    values["status"] = known(RunStatus, values["status"])
    values["trigger"] = known(RunTrigger, values["trigger"])
    return Run(**values)


_E = TypeVar("_E", bound=StrEnum)
_unknown_seen: set[tuple[str, str]] = set()


def known(kind: type[_E], value: str) -> _E:
    """`value` as a member of `kind`; a value this version does not know (written by a newer
    worker during a rolling upgrade) stays its text, and is logged once per process."""
    try:
        return kind(value)
    except ValueError:
        if (kind.__name__, value) not in _unknown_seen:
            _unknown_seen.add((kind.__name__, value))
            logger.warning(
                "a run has the %s %r, which this version of cronbase does not know (a newer "
                "one wrote it); its rows are left alone",
                kind.__name__,
                value,
            )
        return value  # type: ignore[return-value]


def this_job(job_id: UUID, tenant_id: UUID | None) -> sa.ColumnElement[bool]:
    """The job, and with `tenant_id` only while it belongs to that tenant."""
    # The tenant is checked again in the writing statement itself, so a job moved to another
    # tenant between the visibility check and the write is not touched.
    if tenant_id is None:
        return cron_job.c.id == job_id
    return sa.and_(cron_job.c.id == job_id, cron_job.c.tenant_id == tenant_id)


def due(now: datetime) -> sa.ColumnElement[bool]:
    """Active jobs whose next_run has come (served by ix_cron_job_due and ix_cron_job_claim)."""
    return due_by(instant_key(now))


def due_by(instant: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    """`due` at an instant given as timestamp_key compares it (instant_key, or a parameter)."""
    return sa.and_(cron_job.c.is_active, timestamp_key(cron_job.c.next_run) <= instant)


def running_jobs(conn: sa.Connection, job_ids: list[UUID]) -> set[UUID]:
    """Which of the jobs have a run going."""
    if conn.dialect.name == "postgresql":
        return pg_batches.running_jobs(conn, job_ids)
    query = sa.select(cron_job_run.c.job_id).where(
        cron_job_run.c.job_id.in_(job_ids), cron_job_run.c.status == RunStatus.RUNNING.value
    )
    return set(conn.execute(query).scalars())


def keyed_run_insert(dialect: str) -> Any:
    """INSERT of run rows off the schedule, each with its trigger_key: a (key, attempt) that
    has a row already is left alone, so however many workers record an upstream at once, one
    run is queued per trigger."""
    return dialect_insert(dialect)(cron_job_run).on_conflict_do_nothing(
        index_elements=["job_id", "trigger_key", "attempt"],
        index_where=sa.text(KEYED),
    )


def run_insert(dialect: str) -> Any:
    """INSERT of run rows, to execute with a list of rows: a slot (and attempt) that has a
    row already is left alone. One statement whatever the number of rows, so it is compiled
    once and cached."""
    return dialect_insert(dialect)(cron_job_run).on_conflict_do_nothing(
        index_elements=["job_id", "scheduled_for", "attempt"],
        index_where=sa.text(SCHEDULED_SLOT),
    )


def run_row(job: Job, slot: datetime, status: RunStatus, **values: Any) -> dict[str, Any]:
    """A run row of `job` at `slot` with the columns `values` set; the others take their
    defaults (attempt 1, on schedule, NULL). Rows of one kind set the same columns, so they
    go in one INSERT executed for many; the fewer columns, the less that INSERT carries."""
    return {
        "job_id": job.id,
        "tenant_id": job.tenant_id,
        "scheduled_for": slot,
        "status": status.value,
        **values,
    }


def history_row(
    job: Job,
    slot: datetime,
    now: datetime,
    status: RunStatus,
    error: str,
    result: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The row of a slot that did not run (missed, or skipped for overlap)."""
    trigger = RunTrigger.SCHEDULE.value
    return run_row(job, slot, status, trigger=trigger, finished_at=now, error=error, result=result)


def missed_row(job: Job, missed: Missed, now: datetime) -> dict[str, Any]:
    """One row for the slots that passed without a run, with their count and range."""
    count = f"{missed.count}{'+' if missed.more else ''}"
    error = (
        f"{count} slot(s) from {isoformat(missed.first)} to {isoformat(missed.last)} passed "
        f"without a run (misfire policy {job.misfire_policy})"
    )
    result = {
        "missed_slots": missed.count,
        "more": missed.more,
        "first": isoformat(missed.first),
        "last": isoformat(missed.last),
    }
    return history_row(job, missed.first, now, RunStatus.MISSED, error, result)


def retry_row(claim: Claim, run_after: datetime) -> dict[str, Any]:
    """The pending run of the next attempt of the claim's run: the same slot, trigger, key."""
    return run_row(
        claim.job,
        claim.slot,
        RunStatus.PENDING,
        attempt=claim.attempt + 1,
        trigger=claim.trigger.value,
        run_after=run_after,
        trigger_key=claim.trigger_key,
        triggered_by=list(claim.triggered_by) or None,
    )
