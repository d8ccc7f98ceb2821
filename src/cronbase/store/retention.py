"""Run-history retention: delete old run rows a batch at a time, one pruner at a time.

What may go (store side of cronbase.retention): a row whose slot is older than the cutoff,
that is neither pending nor running, that is not among the newest `keep_runs` rows of its
job's history, and that started no run of a dependent job that is still there. Each batch is one short
transaction that walks ix_cron_job_run_age from where the previous one stopped: it locks only
the rows it deletes (never a job, never a running row), so claims and recording go on.

One pruner at a time across the fleet: on PostgreSQL each batch takes a transaction-level
advisory lock with pg_try_advisory_xact_lock (released at commit, so a pruner that dies holds
nothing); on SQLite, one host, a row of cron_lock with an expiry, renewed by each batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from cronbase.jobs import RunStatus, RunTrigger
from cronbase.store.engine import dialect_insert
from cronbase.store.tables import (
    cron_job,
    cron_job_dependency,
    cron_job_run,
    cron_lock,
    cron_setting,
)
from cronbase.store.types import UTCDateTime

# Next to the migrations' (7245031) and seeding's (7245032) advisory locks.
_PRUNE_LOCK = 7245033
_LOCK_NAME = "prune_runs"
# A SQLite pruner that dies mid-pass frees the lock this long after its last batch.
LOCK_TTL = timedelta(seconds=60)
_NEVER_PRUNED = (RunStatus.PENDING.value, RunStatus.RUNNING.value)

# Where a pass has got to: the (scheduled_for, id) of the last row a batch looked at.
RunKey = tuple[datetime, UUID]


@dataclass(frozen=True)
class PruneBatch:
    deleted: int
    # Where the next batch starts; None when this batch reached the cutoff (the pass is over).
    next_after: RunKey | None


def stored_setting(conn: sa.Connection, name: str) -> str | None:
    """A setting kept in the database (cron_setting), or None if it is not there."""
    query = sa.select(cron_setting.c.value).where(cron_setting.c.name == name)
    return conn.execute(query).scalar_one_or_none()


def prune_batch(
    conn: sa.Connection,
    dialect: str,
    *,
    before: datetime,
    after: RunKey | None,
    limit: int,
    holder: str,
    now: datetime,
) -> PruneBatch | None:
    """Look at up to `limit` rows with slots before `before`, oldest first from `after`, and
    delete those that may go. None if another pruner holds the lock (nothing is done)."""
    if not _try_lock(conn, dialect, holder, now):
        return None
    if dialect == "postgresql":
        # With 10 million runs: the DELETE's estimated cost passes jit_above_cost, and compiling
        # it took 290 of a batch's 360 ms, every batch; and once psycopg prepares the statements
        # (the fifth batch on a connection), PostgreSQL may switch to a generic plan that cannot
        # see how narrow the batch's key range is, and scans the table (seconds a batch).
        conn.exec_driver_sql("SET LOCAL jit = off")
        conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
    runs = cron_job_run
    # The last row of this batch: the `limit`-th from `after`, read from the index alone.
    edge = conn.execute(
        sa.select(runs.c.scheduled_for, runs.c.id)
        .where(_window(runs, before, after, None))
        .order_by(runs.c.scheduled_for, runs.c.id)
        .offset(limit - 1)
        .limit(1)
    ).first()
    last = None if edge is None else (edge[0], edge[1])
    batch = cron_job_run.alias("batch")  # a DELETE's subquery must not name the table itself
    in_batch = _window(batch, before, after, last)
    kept = _newest_kept(conn, dialect, in_batch, batch)
    victims = (
        sa.select(batch.c.id)
        .select_from(batch.outerjoin(kept, kept.c.job_id == batch.c.job_id))
        .where(
            in_batch,
            batch.c.status.not_in(_NEVER_PRUNED),
            sa.or_(kept.c.job_id.is_(None), batch.c.scheduled_for < kept.c.keep_from),
            *_dependency_guard(conn, batch),
        )
    )
    deleted = conn.execute(runs.delete().where(runs.c.id.in_(victims))).rowcount
    return PruneBatch(deleted, last)


def _window(
    runs: sa.FromClause, before: datetime, after: RunKey | None, last: RunKey | None
) -> sa.ColumnElement[bool]:
    """The rows of a batch: slots before `before`, after `after` and up to `last` (as keys)."""
    key = sa.tuple_(runs.c.scheduled_for, runs.c.id)
    window = [runs.c.scheduled_for < before]
    if after is not None:
        window.append(key > sa.tuple_(*after))
    if last is not None:
        window.append(key <= sa.tuple_(*last))
    return sa.and_(*window)


def _newest_kept(
    conn: sa.Connection, dialect: str, in_batch: sa.ColumnElement[bool], batch: sa.FromClause
) -> sa.Subquery:
    """(job_id, keep_from) for each job of the batch that keeps its newest N rows: the slot of
    its N-th newest row, NULL if it has fewer. Its rows of older slots may go; the attempts of
    that slot stay with it. One backward walk of ix_cron_job_run_slots per job, not per row."""
    batch_jobs = sa.select(batch.c.job_id).where(in_batch).distinct()
    keeping = sa.and_(cron_job.c.keep_runs.is_not(None), cron_job.c.id.in_(batch_jobs))
    if dialect == "postgresql":
        keep_from = _nth_newest(cron_job.c.id, cron_job.c.keep_runs).scalar_subquery()
        query = sa.select(cron_job.c.id.label("job_id"), keep_from.label("keep_from"))
        return query.where(keeping).subquery("kept")
    # SQLite takes no column of the outer query in OFFSET: each job's N is read first, then
    # its walk is a query of its own (SQLite is in-process, so a query costs microseconds).
    jobs = conn.execute(sa.select(cron_job.c.id, cron_job.c.keep_runs).where(keeping)).all()
    rows = [
        sa.select(
            sa.literal(job_id, sa.Uuid()).label("job_id"),
            sa.literal(conn.execute(_nth_newest(job_id, n)).scalar(), UTCDateTime()).label(
                "keep_from"
            ),
        )
        for job_id, n in jobs
    ]
    if not rows:  # an empty table of the same shape
        none = sa.select(sa.null().label("job_id"), sa.null().label("keep_from"))
        return none.where(sa.false()).subquery("kept")
    return sa.union_all(*rows).subquery("kept")


def _nth_newest(job_id: Any, n: Any) -> sa.Select[tuple[datetime]]:
    """The slot of the job's n-th newest row (n may be a column of the outer query)."""
    newer = cron_job_run.alias("newer")
    return (
        sa.select(newer.c.scheduled_for)
        .where(newer.c.job_id == job_id)
        .order_by(newer.c.scheduled_for.desc())
        .offset(n - 1)
        .limit(1)
    )


def _dependency_guard(conn: sa.Connection, batch: sa.FromClause) -> list[sa.ColumnElement[bool]]:
    """The guard below, where jobs depend on others at all. Without edges it is left out: its
    estimate of one `dependency` run made PostgreSQL scan all 10 million runs for it once per
    batch (6.6 s) instead of probing an index."""
    edges = conn.execute(sa.select(sa.exists().select_from(cron_job_dependency))).scalar()
    return [_starts_no_kept_dependent(batch)] if edges else []


def _starts_no_kept_dependent(batch: sa.FromClause) -> sa.ColumnElement[bool]:
    """The run started no run of a dependent job that is still there.

    A dependent's run (trigger `dependency`) names the upstream runs that started it in
    triggered_by, and stands for their slot. So an upstream run is kept while a job that
    depends on its job (cron_job_dependency) has a dependency run of the same slot: two index
    probes (ix_cron_job_dependency_upstream, ix_cron_job_run_slots), not a search of every
    triggered_by. It keeps a little more than needed (the job's other runs of that slot), never
    less; once the dependent's runs are gone, the next pass prunes it.
    """
    dependent = cron_job_run.alias("dependent")
    return ~sa.exists().where(
        cron_job_dependency.c.upstream_id == batch.c.job_id,
        dependent.c.job_id == cron_job_dependency.c.job_id,
        dependent.c.scheduled_for == batch.c.scheduled_for,
        dependent.c.trigger == RunTrigger.DEPENDENCY.value,
    )


def _try_lock(conn: sa.Connection, dialect: str, holder: str, now: datetime) -> bool:
    return try_fleet_lock(conn, dialect, (_PRUNE_LOCK, _LOCK_NAME), holder, now)


def try_fleet_lock(
    conn: sa.Connection, dialect: str, lock_id: tuple[int, str], holder: str, now: datetime
) -> bool:
    """Take, for this transaction, the lock of work one process of the fleet does at a time
    (`lock_id`: its advisory lock key on PostgreSQL, its cron_lock row's name on SQLite);
    False, at once, if another holder has it."""
    key, name = lock_id
    if dialect == "postgresql":
        query = sa.select(sa.func.pg_try_advisory_xact_lock(key))
        return bool(conn.execute(query).scalar_one())
    # SQLite: this transaction holds the write lock (BEGIN IMMEDIATE), so read-then-write
    # is safe here. The lock is ours if free, lapsed or ours already; each batch renews it.
    lock = cron_lock.c
    taken = conn.execute(
        cron_lock.update()
        .where(lock.name == name, sa.or_(lock.holder == holder, lock.expires_at <= now))
        .values(holder=holder, expires_at=now + LOCK_TTL)
    ).rowcount
    if taken:
        return True
    first = dialect_insert(dialect)(cron_lock).values(
        name=name, holder=holder, expires_at=now + LOCK_TTL
    )
    return bool(conn.execute(first.on_conflict_do_nothing()).rowcount)


def release_lock(conn: sa.Connection, dialect: str, holder: str, now: datetime) -> None:
    """End `holder`'s pass: free the SQLite lock row at once (PostgreSQL's is freed already)."""
    release_fleet_lock(conn, dialect, (_PRUNE_LOCK, _LOCK_NAME), holder, now)


def release_fleet_lock(
    conn: sa.Connection, dialect: str, lock_id: tuple[int, str], holder: str, now: datetime
) -> None:
    """Free `holder`'s SQLite lock row at once (PostgreSQL's is freed at commit)."""
    if dialect != "postgresql":
        conn.execute(
            cron_lock.update()
            .where(cron_lock.c.name == lock_id[1], cron_lock.c.holder == holder)
            .values(expires_at=now)
        )
