"""SqlStore: every statement cronbase runs against its own tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from cronbase.jobs import (
    Claim,
    Job,
    MisfirePolicy,
    Missed,
    Outcome,
    OverlapPolicy,
    Run,
    RunStatus,
    RunTrigger,
    SlotPlan,
    isoformat,
)
from cronbase.store.engine import DEFERRED, create_engine, dialect_insert
from cronbase.store.tables import cron_job, cron_job_run, tenants
from cronbase.store.types import instant_key, timestamp_key

# Given a due job and "now": which slot runs, which are missed, and the next next_run.
PlanSlots = Callable[[Job, datetime], SlotPlan]
# Given a job, the attempt that ended unfinished and when: when to try again, or None.
PlanRetry = Callable[[Job, int, datetime], datetime | None]


DEFAULT_LEASE = timedelta(seconds=60)
ABANDONED_ERROR = "its worker stopped renewing the lease: the worker died or lost the database"
_SCHEDULED_SLOT = "trigger = 'schedule'"  # the predicate of the partial index uq_cron_job_run_slot
# A literal for the same reason as above: it must match the partial index ix_cron_job_run_pending.
_PENDING = sa.text("cron_job_run.status = 'pending'")


def _job(row: sa.Row[Any]) -> Job:
    mapping = row._mapping
    return Job(**{column.name: mapping[column] for column in cron_job.c})


def _run(row: Any) -> Run:
    mapping = getattr(row, "_mapping", row)  # a Row, or a Row's mapping with extra columns
    values = {column.name: mapping[column.name] for column in cron_job_run.c}
    values["status"] = RunStatus(values["status"])
    values["trigger"] = RunTrigger(values["trigger"])
    return Run(**values)


class SqlStore:
    """The one store, for SQLite and PostgreSQL alike.

    Claims take row locks with FOR UPDATE SKIP LOCKED on PostgreSQL; on SQLite the clause
    renders as nothing and BEGIN IMMEDIATE (see engine.py) serializes claimants instead.
    Either way the unique (job_id, scheduled_for) index is the last word on "exactly once".
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> SqlStore:
        return cls(create_engine(url, **kwargs))

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """A connection in a transaction that commits on exit and rolls back on error."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def reading(self) -> Iterator[sa.Connection]:
        """A read-only transaction; on SQLite it does not take the write lock."""
        with self.engine.connect() as conn:
            conn.execution_options(**{DEFERRED: True})
            with conn.begin():
                yield conn

    @contextmanager
    def connection(self) -> Iterator[sa.Connection]:
        """A connection in commit-as-you-go mode, for job functions; uncommitted work is rolled
        back on exit. On SQLite its transactions begin deferred, so a job that reads and then
        waits does not lock other processes out."""
        with self.engine.connect() as conn:
            conn.execution_options(**{DEFERRED: True})
            yield conn

    # --- tenants and jobs --------------------------------------------------------------------

    def insert_tenant(self, name: str) -> UUID:
        with self.transaction() as conn:
            return conn.execute(
                tenants.insert().values(name=name).returning(tenants.c.id)
            ).scalar_one()

    def list_tenants(self) -> list[tuple[UUID, str]]:
        query = sa.select(tenants.c.id, tenants.c.name).order_by(tenants.c.name)
        with self.reading() as conn:
            return [(tenant_id, name) for tenant_id, name in conn.execute(query)]

    def tenant_exists(self, tenant_id: UUID) -> bool:
        with self.reading() as conn:
            query = sa.select(tenants.c.id).where(tenants.c.id == tenant_id)
            return conn.execute(query).first() is not None

    def insert_job(self, values: dict[str, Any]) -> Job:
        with self.transaction() as conn:
            return self._insert_job(conn, values)

    def _insert_job(self, conn: sa.Connection, values: dict[str, Any]) -> Job:
        row = conn.execute(cron_job.insert().values(**values).returning(*cron_job.c)).one()
        return _job(row)

    def insert_jobs_unless_named(self, jobs: list[dict[str, Any]]) -> list[Job]:
        """Insert each global job whose name no global job has yet; return the inserted ones."""
        inserted = []
        with self.transaction() as conn:
            if self.dialect == "postgresql":  # SQLite's BEGIN IMMEDIATE serializes this already
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(7245032)"))
            for values in jobs:
                exists = sa.select(cron_job.c.id).where(
                    cron_job.c.tenant_id.is_(None), cron_job.c.name == values["name"]
                )
                if conn.execute(exists).first() is None:
                    inserted.append(self._insert_job(conn, values))
        return inserted

    def update_job(
        self, job_id: UUID, values: dict[str, Any], *, tenant_id: UUID | None = None
    ) -> Job | None:
        """Set `values` on the job; return it, or None if it does not exist (or, with
        `tenant_id`, no longer belongs to that tenant)."""
        with self.transaction() as conn:
            row = conn.execute(
                cron_job.update()
                .where(_this_job(job_id, tenant_id))
                .values(**values)
                .returning(*cron_job.c)
            ).first()
            return _job(row) if row else None

    def delete_job(self, job_id: UUID, *, tenant_id: UUID | None = None) -> bool:
        """Delete the job and its run history; return False if it did not exist (or, with
        `tenant_id`, no longer belongs to that tenant)."""
        with self.transaction() as conn:
            deleted = conn.execute(cron_job.delete().where(_this_job(job_id, tenant_id)))
            return deleted.rowcount == 1

    def get_job(self, job_id: UUID) -> Job | None:
        with self.reading() as conn:
            row = conn.execute(sa.select(cron_job).where(cron_job.c.id == job_id)).first()
            return _job(row) if row else None

    def list_jobs(
        self,
        *,
        tenant_id: UUID | None = None,
        is_active: bool | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Job]:
        """Jobs in a stable order (creation time, then id)."""
        query = sa.select(cron_job).order_by(cron_job.c.created_at, cron_job.c.id)
        if tenant_id is not None:
            query = query.where(cron_job.c.tenant_id == tenant_id)
        if is_active is not None:
            query = query.where(cron_job.c.is_active.is_(is_active))
        with self.reading() as conn:
            rows = conn.execute(query.limit(limit).offset(offset))
            return [_job(row) for row in rows]

    def earliest_next_run(self) -> datetime | None:
        """When the next run falls due: the earliest next_run of an active job or run_after of
        a pending run (served by ix_cron_job_due and ix_cron_job_run_pending)."""
        job = sa.select(sa.func.min(timestamp_key(cron_job.c.next_run))).where(cron_job.c.is_active)
        # Only pending runs that could start: not a paused job's retries (unless manual).
        pending = (
            sa.select(sa.func.min(cron_job_run.c.run_after))
            .join(cron_job, cron_job.c.id == cron_job_run.c.job_id)
            .where(
                _PENDING,
                sa.or_(cron_job.c.is_active, cron_job_run.c.trigger == RunTrigger.MANUAL.value),
            )
        )
        with self.reading() as conn:
            times = [conn.execute(job).scalar_one(), conn.execute(pending).scalar_one()]
        return min((t for t in times if t is not None), default=None)

    # --- claiming and finishing runs ---------------------------------------------------------

    def _due(self, now: datetime) -> sa.ColumnElement[bool]:
        return sa.and_(cron_job.c.is_active, timestamp_key(cron_job.c.next_run) <= instant_key(now))

    def due_jobs(self, now: datetime) -> dict[UUID, UUID | None]:
        """The active jobs due at `now`, claimed or not, as {job id: tenant id} (to count skips)."""
        query = sa.select(cron_job.c.id, cron_job.c.tenant_id).where(self._due(now))
        with self.reading() as conn:
            return {job_id: tenant_id for job_id, tenant_id in conn.execute(query)}  # noqa: C416

    def claim_due(
        self,
        now: datetime,
        worker_id: str,
        plan: PlanSlots,
        limit: int = 100,
        lease: timedelta = DEFAULT_LEASE,
    ) -> tuple[list[Claim], int]:
        """Claim up to `limit` due jobs in one transaction, highest priority first, then the
        longest overdue; return the claims and how many due jobs were taken off the queue.

        `plan` says, per job, which slot runs, which are missed and the next next_run. A slot
        that runs gets a run row (running, leased to `worker_id` until now + lease); missed
        slots get one `missed` row; a slot due while the job's previous run is still going gets
        a `skipped` row, unless the job's overlap policy is `allow` (or `queue`, whose jobs wait
        unclaimed until the previous run ends, as catch_up jobs do). Jobs another worker holds
        are skipped, not waited for. A slot that already has a run row is not run again.
        """
        with self.transaction() as conn:
            queued = self._claim_pending(conn, now, worker_id, now + lease, limit)
            if len(queued) >= limit:
                return queued, len(queued)
            claimable = self._select_claimable(now, limit - len(queued))
            jobs = [_job(row) for row in conn.execute(claimable)]
            if not jobs:
                return queued, len(queued)
            busy = self._running_jobs(conn, [job.id for job in jobs])
            plans = {job.id: plan(job, now) for job in jobs}
            to_run = [
                job
                for job in jobs
                if plans[job.id].run_slot is not None
                and (job.id not in busy or job.overlap_policy == OverlapPolicy.ALLOW)
            ]
            run_ids = self._insert_runs(conn, to_run, plans, now, worker_id, now + lease)
            self._insert_history(conn, jobs, plans, busy - set(run_ids), now)
            conn.execute(
                cron_job.update()
                .where(cron_job.c.id == sa.bindparam("b_id"))
                .values(next_run=sa.bindparam("b_next"), last_run=sa.bindparam("b_last")),
                [
                    {
                        "b_id": job.id,
                        "b_next": plans[job.id].next_run,
                        "b_last": now if job.id in run_ids else job.last_run,
                    }
                    for job in jobs
                ],
            )
        claims = [
            Claim(
                run_ids[job.id],
                job,
                plans[job.id].run_slot or now,
                plans[job.id].next_run,
                plans[job.id].error,
            )
            for job in to_run
            if job.id in run_ids
        ]
        return queued + claims, len(queued) + len(jobs)

    def _claim_pending(
        self, conn: sa.Connection, now: datetime, worker_id: str, lease_until: datetime, limit: int
    ) -> list[Claim]:
        """Claim pending runs (retries, manual runs) whose time has come, one per job unless
        the job allows overlap, and none of a job whose previous run is still going."""
        other = cron_job_run.alias("other")
        running = sa.exists().where(
            other.c.job_id == cron_job_run.c.job_id,
            sa.text("other.status = 'running'"),  # a literal, to match ix_cron_job_run_running
        )
        query = (
            sa.select(
                cron_job,
                cron_job_run.c.id.label("run_id"),
                cron_job_run.c.scheduled_for.label("run_slot"),
                cron_job_run.c.attempt.label("run_attempt"),
                cron_job_run.c.trigger.label("run_trigger"),
            )
            .join(cron_job, cron_job.c.id == cron_job_run.c.job_id)
            .where(
                _PENDING,
                cron_job_run.c.run_after <= now,
                # A paused job's retries wait for it to resume; a manual run is what was asked.
                sa.or_(cron_job.c.is_active, cron_job_run.c.trigger == RunTrigger.MANUAL.value),
                sa.or_(cron_job.c.overlap_policy == OverlapPolicy.ALLOW.value, sa.not_(running)),
            )
            .order_by(cron_job.c.priority.desc(), cron_job_run.c.run_after)
            .limit(limit)
            # The job's row too: a worker claiming the job's next slot skips it meanwhile.
            .with_for_update(of=[cron_job_run, cron_job], skip_locked=True)
        )
        rows = conn.execute(query).all()
        # The NOT EXISTS above saw the runs committed when the statement began; a run another
        # worker committed since (before we locked the job) shows in a fresh look.
        busy = self._running_jobs(conn, list({row.id for row in rows})) if rows else set()
        claims, seen = [], set()
        for row in rows:
            job = _job(row)
            if job.overlap_policy != OverlapPolicy.ALLOW and (job.id in seen or job.id in busy):
                continue
            seen.add(job.id)
            claims.append(
                Claim(
                    row.run_id,
                    job,
                    row.run_slot,
                    job.next_run,
                    attempt=row.run_attempt,
                    trigger=RunTrigger(row.run_trigger),
                )
            )
        if claims:
            conn.execute(
                cron_job_run.update()
                .where(cron_job_run.c.id.in_([claim.run_id for claim in claims]))
                .values(
                    status=RunStatus.RUNNING.value,
                    started_at=now,
                    worker_id=worker_id,
                    lease_until=lease_until,
                    run_after=None,
                )
            )
        return claims

    def enqueue_run(
        self, job_id: UUID, now: datetime, *, tenant_id: UUID | None = None
    ) -> Run | None:
        """Queue a manual run of the job, to start as soon as a worker is free; return it, or
        None if the job does not exist (or, with `tenant_id`, is not that tenant's). A manual
        run already waiting is returned instead of queueing a second one."""
        with self.transaction() as conn:
            # Locked, so two clicks at once queue one run, and a DELETE waits for us.
            tenant = conn.execute(
                sa.select(cron_job.c.tenant_id)
                .where(_this_job(job_id, tenant_id))
                .with_for_update()
            ).first()
            if tenant is None:
                return None
            waiting = conn.execute(
                sa.select(cron_job_run).where(
                    cron_job_run.c.job_id == job_id,
                    _PENDING,
                    cron_job_run.c.trigger == RunTrigger.MANUAL.value,
                    cron_job_run.c.attempt == 1,  # not a retry, which may wait for hours
                )
            ).first()
            if waiting is not None:
                return _run(waiting)
            row = conn.execute(
                cron_job_run.insert()
                .values(
                    job_id=job_id,
                    tenant_id=tenant.tenant_id,
                    scheduled_for=now,
                    status=RunStatus.PENDING.value,
                    trigger=RunTrigger.MANUAL.value,
                    run_after=now,
                )
                .returning(*cron_job_run.c)
            ).one()
            return _run(row)

    def _select_claimable(self, now: datetime, limit: int) -> sa.Select[Any]:
        running = sa.exists().where(
            cron_job_run.c.job_id == cron_job.c.id,
            cron_job_run.c.status == RunStatus.RUNNING.value,
        )
        waits_for_previous = sa.or_(
            cron_job.c.overlap_policy == OverlapPolicy.QUEUE.value,
            cron_job.c.misfire_policy == MisfirePolicy.CATCH_UP.value,
        )
        return (
            sa.select(cron_job)
            .where(self._due(now), sa.not_(sa.and_(waits_for_previous, running)))
            .order_by(cron_job.c.priority.desc(), timestamp_key(cron_job.c.next_run))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )

    def _running_jobs(self, conn: sa.Connection, job_ids: list[UUID]) -> set[UUID]:
        query = sa.select(cron_job_run.c.job_id).where(
            cron_job_run.c.job_id.in_(job_ids), cron_job_run.c.status == RunStatus.RUNNING.value
        )
        return set(conn.execute(query).scalars())

    def _insert_runs(
        self,
        conn: sa.Connection,
        jobs: list[Job],
        plans: dict[UUID, SlotPlan],
        now: datetime,
        worker_id: str,
        lease_until: datetime,
    ) -> dict[UUID, UUID]:
        if not jobs:
            return {}
        rows = [
            {
                "job_id": job.id,
                "tenant_id": job.tenant_id,
                "scheduled_for": plans[job.id].run_slot,
                "started_at": now,
                "status": RunStatus.RUNNING.value,
                "worker_id": worker_id,
                "trigger": RunTrigger.SCHEDULE.value,
                "lease_until": lease_until,
            }
            for job in jobs
        ]
        insert = self._insert_slots().returning(cron_job_run.c.job_id, cron_job_run.c.id)
        return {job_id: run_id for job_id, run_id in conn.execute(insert, rows)}  # noqa: C416

    def _insert_history(
        self,
        conn: sa.Connection,
        jobs: list[Job],
        plans: dict[UUID, SlotPlan],
        overlapped: set[UUID],
        now: datetime,
    ) -> None:
        """Rows for slots that do not run: missed ones, and ones skipped for overlap."""
        rows = []
        for job in jobs:
            plan = plans[job.id]
            if plan.missed is not None:
                rows.append(_missed_row(job, plan.missed, now))
            if job.id in overlapped and plan.run_slot is not None:
                rows.append(
                    _history_row(
                        job,
                        plan.run_slot,
                        now,
                        RunStatus.SKIPPED,
                        "the previous run was still going (overlap policy skip)",
                    )
                )
        if rows:
            conn.execute(self._insert_slots(), rows)

    def _insert_slots(self) -> Any:
        """INSERT of run rows, to execute with a list of rows: a slot (and attempt) that has a
        row already is left alone. One statement whatever the number of rows, so it is
        compiled once and cached."""
        return dialect_insert(self.dialect)(cron_job_run).on_conflict_do_nothing(
            index_elements=["job_id", "scheduled_for", "attempt"],
            # A literal, not a bind parameter: once psycopg prepares the statement, PostgreSQL
            # cannot match a parameterised predicate to the partial unique index.
            index_where=sa.text(_SCHEDULED_SLOT),
        )

    def finish_runs(self, outcomes: list[Outcome]) -> list[bool]:
        """Record how claimed runs ended, in one transaction; say for each whether it was
        recorded.

        A run that is no longer running (its lease lapsed and another worker recorded it
        abandoned) is left alone (False). An outcome with `retry_at` queues the next attempt
        as a pending run and leaves the job's monitoring keys alone: only the last attempt
        counts there.
        """
        if not outcomes:
            return []
        with self.transaction() as conn:
            # Lock the jobs before the runs, in the order a DELETE of a job cascades, so the
            # two cannot deadlock.
            locked = _lock_jobs(conn, {outcome.claim.job.id for outcome in outcomes})
            metadata = dict(locked)
            running = set(
                conn.execute(
                    sa.select(cron_job_run.c.id)
                    .where(
                        cron_job_run.c.id.in_([outcome.claim.run_id for outcome in outcomes]),
                        cron_job_run.c.status == RunStatus.RUNNING.value,
                    )
                    .with_for_update()
                ).scalars()
            )
            recorded = [outcome for outcome in outcomes if outcome.claim.run_id in running]
            if recorded:
                conn.execute(
                    cron_job_run.update()
                    .where(cron_job_run.c.id == sa.bindparam("b_id"))
                    .values(
                        status=sa.bindparam("b_status"),
                        started_at=sa.bindparam("b_started"),
                        finished_at=sa.bindparam("b_finished"),
                        result=sa.bindparam("b_result", type_=cron_job_run.c.result.type),
                        error=sa.bindparam("b_error"),
                        lease_until=None,
                    ),
                    [
                        {
                            "b_id": o.claim.run_id,
                            "b_status": o.status.value,
                            "b_started": o.started_at,
                            "b_finished": o.finished_at,
                            "b_result": o.result,
                            "b_error": o.error,
                        }
                        for o in recorded
                    ],
                )
                retries = [
                    _retry_row(
                        o.claim.job, o.claim.slot, o.claim.attempt, o.claim.trigger, o.retry_at
                    )
                    for o in recorded
                    if o.retry_at is not None
                ]
                if retries:
                    conn.execute(self._insert_slots(), retries)
                for o in recorded:
                    if o.retry_at is None:
                        _count_outcome(metadata, o.claim.job.id, o.started_at, o.status, o.error)
                _write_metadata(conn, metadata, locked)
        return [outcome.claim.run_id in running for outcome in outcomes]

    def release_runs(self, run_ids: list[UUID], worker_id: str, now: datetime) -> None:
        """Give back runs `worker_id` claimed that never started (it is stopping): they become
        pending again, for any worker to take."""
        if not run_ids:
            return
        with self.transaction() as conn:
            conn.execute(
                cron_job_run.update()
                .where(
                    cron_job_run.c.id.in_(run_ids),
                    cron_job_run.c.status == RunStatus.RUNNING.value,
                    cron_job_run.c.worker_id == worker_id,  # not since taken by another
                )
                .values(
                    status=RunStatus.PENDING.value,
                    run_after=now,
                    started_at=None,
                    worker_id=None,
                    lease_until=None,
                )
            )

    def extend_leases(self, run_ids: list[UUID], worker_id: str, until: datetime) -> None:
        """Renew the leases of runs `worker_id` is still executing."""
        if not run_ids:
            return
        with self.transaction() as conn:
            conn.execute(
                cron_job_run.update()
                .where(
                    cron_job_run.c.id.in_(run_ids),
                    cron_job_run.c.status == RunStatus.RUNNING.value,
                    cron_job_run.c.worker_id == worker_id,
                )
                .values(lease_until=until)
            )

    def abandon_expired(self, now: datetime, retry: PlanRetry | None = None) -> list[Run]:
        """Record as abandoned every running run whose lease lapsed before `now`; return them.

        A lapsed lease means the worker that claimed the run died (or lost the database for
        longer than the lease): nobody will record how the run ended. `retry` says when an
        abandoned attempt is tried again (None: not at all).
        """
        expired = sa.select(cron_job_run.c.id, cron_job_run.c.job_id).where(
            cron_job_run.c.status == RunStatus.RUNNING.value, cron_job_run.c.lease_until < now
        )
        with self.transaction() as conn:
            found = conn.execute(expired).all()
            if not found:
                return []
            job_ids = sorted({job_id for _, job_id in found})
            jobs = {
                job.id: job
                for job in map(
                    _job,
                    conn.execute(
                        sa.select(cron_job)
                        .where(cron_job.c.id.in_(job_ids))
                        .order_by(cron_job.c.id)
                        .with_for_update()
                    ),
                )
            }
            locked = {job_id: job.metadata for job_id, job in jobs.items()}
            metadata = dict(locked)
            rows = conn.execute(
                cron_job_run.update()
                .where(
                    cron_job_run.c.id.in_([run_id for run_id, _ in found]),
                    cron_job_run.c.status == RunStatus.RUNNING.value,  # unless finished meanwhile
                )
                .values(
                    status=RunStatus.ABANDONED.value,
                    finished_at=now,
                    error=ABANDONED_ERROR,
                    lease_until=None,
                )
                .returning(*cron_job_run.c)
            )
            runs = [_run(row) for row in rows]
            retries = []
            for run in runs:
                job = jobs.get(run.job_id)
                retry_at = retry(job, run.attempt, now) if retry and job else None
                if job is not None and retry_at is not None:
                    retries.append(
                        _retry_row(job, run.scheduled_for, run.attempt, run.trigger, retry_at)
                    )
                else:
                    started = run.started_at or now
                    _count_outcome(metadata, run.job_id, started, run.status, run.error)
            if retries:
                conn.execute(self._insert_slots(), retries)
            _write_metadata(conn, metadata, locked)
        return runs

    def runs_in_progress(self) -> list[tuple[Run, str]]:
        """Runs still going, oldest first, each with its job's name."""
        query = (
            sa.select(cron_job_run, cron_job.c.name.label("job_name"))
            .join(cron_job, cron_job.c.id == cron_job_run.c.job_id)
            .where(cron_job_run.c.status == RunStatus.RUNNING.value)
            .order_by(cron_job_run.c.started_at)
        )
        with self.reading() as conn:
            rows = conn.execute(query).all()
        return [(_run(row._mapping), row.job_name) for row in rows]

    def due_counts(self, now: datetime, overdue_after: timedelta) -> tuple[int, int]:
        """(jobs due now, of which due for longer than `overdue_after`)."""
        late = timestamp_key(cron_job.c.next_run) < instant_key(now - overdue_after)
        overdue = sa.func.sum(sa.case((late, 1), else_=0))
        query = sa.select(sa.func.count(), overdue).where(self._due(now))
        with self.reading() as conn:
            due, late = conn.execute(query).one()
        return int(due), int(late or 0)

    def failing_jobs(self) -> list[Job]:
        """Active jobs whose latest run failed (their metadata carries last_error)."""
        with self.reading() as conn:
            jobs = [
                _job(row) for row in conn.execute(sa.select(cron_job).where(cron_job.c.is_active))
            ]
        return [
            job for job in jobs if isinstance(job.metadata, dict) and job.metadata.get("last_error")
        ]

    def list_runs(self, job_id: UUID, *, limit: int = 50, offset: int = 0) -> list[Run]:
        """A job's runs, newest first."""
        query = (
            sa.select(cron_job_run)
            .where(cron_job_run.c.job_id == job_id)
            # By the slot each row stands for (every row has one, unlike started_at), then
            # attempt: served by ix_cron_job_run_slots.
            .order_by(
                cron_job_run.c.scheduled_for.desc(),
                cron_job_run.c.attempt.desc(),
                cron_job_run.c.id.desc(),
            )
            .limit(limit)
            .offset(offset)
        )
        with self.reading() as conn:
            return [_run(row) for row in conn.execute(query)]


def _this_job(job_id: UUID, tenant_id: UUID | None) -> sa.ColumnElement[bool]:
    # The tenant is checked again in the writing statement itself, so a job moved to another
    # tenant between the visibility check and the write is not touched.
    if tenant_id is None:
        return cron_job.c.id == job_id
    return sa.and_(cron_job.c.id == job_id, cron_job.c.tenant_id == tenant_id)


def _history_row(
    job: Job,
    slot: datetime,
    now: datetime,
    status: RunStatus,
    error: str,
    result: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "job_id": job.id,
        "tenant_id": job.tenant_id,
        "scheduled_for": slot,
        "started_at": None,
        "finished_at": now,
        "status": status.value,
        "error": error,
        "result": result,
        "trigger": RunTrigger.SCHEDULE.value,
        "worker_id": None,
        "lease_until": None,
    }


def _missed_row(job: Job, missed: Missed, now: datetime) -> dict[str, Any]:
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
    return _history_row(job, missed.first, now, RunStatus.MISSED, error, result)


def _retry_row(
    job: Job, slot: datetime, attempt: int, trigger: RunTrigger, run_after: datetime
) -> dict[str, Any]:
    """The pending run of the next attempt at the same slot."""
    return {
        "job_id": job.id,
        "tenant_id": job.tenant_id,
        "scheduled_for": slot,
        "started_at": None,
        "finished_at": None,
        "status": RunStatus.PENDING.value,
        "error": None,
        "result": None,
        "attempt": attempt + 1,
        "trigger": trigger.value,
        "worker_id": None,
        "lease_until": None,
        "run_after": run_after,
    }


def _lock_jobs(conn: sa.Connection, job_ids: set[UUID]) -> dict[UUID, Any]:
    """Lock the jobs' rows, in id order, and return their metadata."""
    query = (
        sa.select(cron_job.c.id, cron_job.c.metadata)
        .where(cron_job.c.id.in_(sorted(job_ids)))
        .order_by(cron_job.c.id)
        .with_for_update()
    )
    return {job_id: metadata for job_id, metadata in conn.execute(query)}  # noqa: C416


def _count_outcome(
    metadata: dict[UUID, Any],
    job_id: UUID,
    started_at: datetime,
    status: RunStatus,
    error: str | None,
) -> None:
    """Count a run in its job's monitoring keys (in `metadata`, written by _write_metadata)."""
    current = metadata.get(job_id)
    if isinstance(current, dict):  # else deleted while it ran, or the metadata is not ours
        metadata[job_id] = _monitoring_keys(dict(current), started_at, status, error)


def _write_metadata(
    conn: sa.Connection, metadata: dict[UUID, Any], locked: dict[UUID, Any]
) -> None:
    """Write back the metadata that changed since the jobs were locked (one statement,
    executed for many)."""
    rows = [
        {"b_id": job_id, "b_metadata": value}
        for job_id, value in metadata.items()
        if value is not locked.get(job_id)
    ]
    if rows:
        conn.execute(
            cron_job.update()
            .where(cron_job.c.id == sa.bindparam("b_id"))
            .values(metadata=sa.bindparam("b_metadata", type_=cron_job.c.metadata.type)),
            rows,
        )


def _monitoring_keys(
    metadata: dict[str, Any], executed_at: datetime, status: RunStatus, error: str | None
) -> dict[str, Any]:
    """The seed's monitoring keys: last_execution, execution_count, last_error, error_count."""
    metadata["last_execution"] = isoformat(executed_at)
    metadata["execution_count"] = _count(metadata.get("execution_count")) + 1
    if status is RunStatus.SUCCEEDED:
        metadata.pop("last_error", None)
    else:
        metadata["last_error"] = error
        metadata["error_count"] = _count(metadata.get("error_count")) + 1
    return metadata


def _count(value: Any) -> int:
    # Someone may have edited the counters by hand; count on from whatever number is there.
    try:
        return max(int(value or 0), 0)
    except (TypeError, ValueError):
        return 0
