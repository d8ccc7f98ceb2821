"""The jobs list's copy (cron_job_search and cron_job_last_run, see tables.py): what the list
searches, filters and sorts on that cron_job itself cannot index.

- name, tenant_id, function_name, created_at are exact at once: the rows are inserted by a
  trigger on cron_job's INSERT (migrations 0023, 0024), written by `write_fields` in the
  transaction of a job's update, and deleted with the job (foreign keys).
- last_run and last_status (cron_job_last_run) are copied from cron_job by `refresh`, a pass
  every few seconds
  run by one worker of the fleet at a time, never by the claims or the recording of a run
  (each run would then write a second row, and this table's indexes). A list filtered or sorted
  on them may lag the job's own values by up to the refresh interval; it shows the job's own.

A pass copies the jobs whose runs started since the previous pass (ix_cron_job_run_started,
from the mark the previous pass left, less OVERLAP) and the jobs this table still says are
running (so a long run's ending is caught), in one set-based UPDATE of the rows that differ.
Now and then a pass compares every job instead (`full`), which also mends what plain SQL
changed behind the store's back (a rename, a last_run set by hand).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from cronbase.jobs import RunStatus
from cronbase.store.engine import dialect_insert
from cronbase.store.retention import release_fleet_lock, try_fleet_lock
from cronbase.store.tables import (
    cron_job,
    cron_job_last_run,
    cron_job_run,
    cron_job_search,
    cron_setting,
)

# The fleet's one refresher at a time: PostgreSQL's advisory lock key (next to pruning's
# 7245033), SQLite's cron_lock row.
LOCK = (7245034, "refresh_job_search")
# Where the previous pass got to (cron_setting): the time it started, as its clock said.
MARK = "job_search_refreshed_at"
# A pass reads the runs started this long before the mark as well: a claim's transaction may
# commit a little after the instant it wrote as the run's start, and workers' clocks differ a
# little. Anything later still is mended by the next full pass.
OVERLAP = timedelta(seconds=5)
# The fields a job's update writes here at once, and those the refresher copies.
FIELDS = ("tenant_id", "name", "function_name", "created_at")
COPIED = ("last_run", "last_status")
copy = cron_job_search.c
last = cron_job_last_run.c


@dataclass(frozen=True)
class RefreshPass:
    copied: int  # rows whose last_run or last_status changed
    full: bool


def write_fields(conn: sa.Connection, job_id: UUID, values: Mapping[str, Any]) -> None:
    """A job's update set `values`: carry those the list searches over, in its transaction."""
    changed = {name: values[name] for name in FIELDS if name in values}
    if changed:
        conn.execute(cron_job_search.update().where(copy.job_id == job_id).values(**changed))
    if "tenant_id" in changed:
        conn.execute(
            cron_job_last_run.update()
            .where(last.job_id == job_id)
            .values(tenant_id=changed["tenant_id"])
        )


def copy_outcomes(conn: sa.Connection, job_ids: Iterable[UUID]) -> None:
    """Copy these jobs' last_run and last_status now (where they are set outside the runs'
    usual path, which `refresh` follows: a claimed run handed back unstarted)."""
    ids = sorted(set(job_ids))
    if ids:
        _copy(conn, cron_job_last_run, last.job_id.in_(ids), COPIED)


def refresh(
    conn: sa.Connection,
    dialect: str,
    *,
    holder: str,
    now: datetime,
    every: timedelta,
    full: bool = False,
    before_exit: bool = False,
) -> RefreshPass | None:
    """One pass, if none was made in the last `every` (by any process) and no other process
    is making one: None when it was not this one's turn. `full`: compare every job.
    `before_exit` (a process that ran jobs and exits, such as `cronbase run-due`): a pass
    whatever the mark, after the one in progress if any, so that its runs are in it."""
    if before_exit:
        _wait_for_lock(conn, dialect)
    elif not try_fleet_lock(conn, dialect, LOCK, holder, now):
        return None
    try:
        mark = _mark(conn)
        if mark is not None and mark > now - every and not before_exit:
            return None  # a pass (this process's or another's) was recent enough
        if full or mark is None:
            _copy(conn, cron_job_search, sa.true(), FIELDS)
            copied = _copy(conn, cron_job_last_run, sa.true(), ("tenant_id", *COPIED))
        else:
            copied = _copy(conn, cron_job_last_run, _ran_since(mark - OVERLAP), COPIED)
        _set_mark(conn, dialect, now)
        return RefreshPass(copied, full or mark is None)
    finally:
        release_fleet_lock(conn, dialect, LOCK, holder, now)


def _wait_for_lock(conn: sa.Connection, dialect: str) -> None:
    """Wait for the pass in progress to end. On SQLite there is none: a pass is one write
    transaction, and this one holds the database's write lock already."""
    if dialect == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(LOCK[0])))


def _ran_since(since: datetime) -> sa.ColumnElement[bool]:
    """The jobs with a run started since `since` (ix_cron_job_run_started) and those the copy
    says are running: one derived table, whose few rows the planner joins by primary keys (an
    OR of the two made it scan both tables: 136 ms for 10,000 jobs, 12 ms for none)."""
    ran = sa.select(cron_job_run.c.job_id.label("id")).where(cron_job_run.c.started_at >= since)
    running = sa.select(last.job_id).where(last.last_status == RunStatus.RUNNING.value)
    return last.job_id.in_(sa.union(ran, running))


def _copy(
    conn: sa.Connection, table: sa.Table, which: sa.ColumnElement[bool], names: Iterable[str]
) -> int:
    """UPDATE ... FROM cron_job: the rows of `table` in `which` whose `names` differ from the
    job's. Nothing of cron_job is locked, so claims and the recording of runs go on."""
    mine, job = table.c, cron_job.c
    names = list(names)
    differs = sa.or_(*(mine[n].is_distinct_from(job[n]) for n in names))
    update = (
        table.update()
        .where(mine.job_id == job.id, which, differs)
        .values({n: job[n] for n in names})
    )
    return conn.execute(update).rowcount


def _mark(conn: sa.Connection) -> datetime | None:
    stored = conn.execute(
        sa.select(cron_setting.c.value).where(cron_setting.c.name == MARK)
    ).scalar_one_or_none()
    return None if stored is None else datetime.fromisoformat(stored)


def _set_mark(conn: sa.Connection, dialect: str, now: datetime) -> None:
    insert = dialect_insert(dialect)(cron_setting).values(name=MARK, value=now.isoformat())
    conn.execute(
        insert.on_conflict_do_update(index_elements=["name"], set_={"value": now.isoformat()})
    )
