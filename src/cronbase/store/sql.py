"""SqlStore: the Store (protocol.py) on SQLite and PostgreSQL. Each method opens one
transaction and calls the module that owns the concern: jobs.py (jobs and tenants),
claims.py, leases.py, recording.py, status.py, channels.py and notifications.py."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from cronbase.activity import MinuteActivity, RunTiming
from cronbase.errors import ConcurrentChange, ValueRefused
from cronbase.explain import Evidence
from cronbase.fair_share import TenantShares
from cronbase.jobs import Claim, Job, Outcome, Recorded, Run, RunStatus
from cronbase.listing import JobQuery, RunQuery
from cronbase.notify.flood import DEFAULT_QUIET_PERIOD, MaintenanceWindow
from cronbase.notify.model import (
    Event,
)
from cronbase.store import (
    activity,
    alerts,
    claims,
    evidence,
    job_json,
    leases,
    notifications,
    recording,
    retention,
    search,
    status,
    wakeups,
)
from cronbase.store.engine import DEFERRED, create_engine
from cronbase.store.job_json import JsonJob
from cronbase.store.leases import DEFAULT_LEASE
from cronbase.store.protocol import PlanSlots
from cronbase.store.retention import PruneBatch, RunKey
from cronbase.store.sql_jobs import JobMethods
from cronbase.store.sql_notifications import NotificationMethods


class SqlStore(JobMethods, NotificationMethods):
    """The one store. Its contracts are the docstrings of Store (protocol.py); the methods of
    tenants, jobs, backfills and the audit log are in sql_jobs.py, those of notification
    channels and the outbox in sql_notifications.py."""

    def __init__(
        self, engine: sa.Engine, *, quiet_period: timedelta = DEFAULT_QUIET_PERIOD
    ) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        # Flood control: repeats of an alert within this period are folded (notify/flood.py).
        self.quiet_period = quiet_period

    @classmethod
    def from_url(
        cls, url: str, *, quiet_period: timedelta = DEFAULT_QUIET_PERIOD, **kwargs: Any
    ) -> SqlStore:
        return cls(create_engine(url, **kwargs), quiet_period=quiet_period)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """A connection in a transaction that commits on exit and rolls back on error."""
        with _translated(), self.engine.begin() as conn:
            yield conn

    @contextmanager
    def reading(self) -> Iterator[sa.Connection]:
        """A read-only transaction; on SQLite it does not take the write lock."""
        with _translated(), self.engine.connect() as conn:
            conn.execution_options(**{DEFERRED: True})
            with conn.begin():
                yield conn

    @contextmanager
    def reading_once(self) -> Iterator[sa.Connection]:
        """A connection for reads that need no snapshot shared between their statements. On
        PostgreSQL it is in autocommit: a statement is one round trip, with no BEGIN and
        COMMIT around it (in READ COMMITTED a transaction would not give its statements one
        snapshot anyway). Elsewhere, reading()."""
        if self.dialect != "postgresql":
            with self.reading() as conn:
                yield conn
            return
        with _translated(), self.engine.connect() as conn:
            yield conn.execution_options(isolation_level="AUTOCOMMIT")

    def list_jobs_json(self, query: JobQuery) -> list[JsonJob]:
        """list_jobs' page, each job as the JSON the API sends (job_json.py)."""
        with self.reading_once() as conn:
            return job_json.read_page(conn, query)

    @contextmanager
    def connection(self) -> Iterator[sa.Connection]:
        """A connection in commit-as-you-go mode, for job functions; uncommitted work is rolled
        back on exit. On SQLite its transactions begin deferred, so a job that reads and then
        waits does not lock other processes out."""
        with self.engine.connect() as conn:
            conn.execution_options(**{DEFERRED: True})
            yield conn

    # --- claims, leases and recording --------------------------------------------------------

    def claim_due(
        self,
        now: datetime,
        worker_id: str,
        plan: PlanSlots,
        limit: int = 100,
        lease: timedelta = DEFAULT_LEASE,
        shares: TenantShares | None = None,
        started: datetime | None = None,
    ) -> tuple[list[Claim], int]:
        with self.transaction() as conn:
            return claims.claim_due(
                conn,
                self.dialect,
                now,
                worker_id,
                plan,
                limit,
                now + lease,
                self.quiet_period,
                shares,
                started=started,
            )

    def extend_leases(self, run_ids: list[UUID], worker_id: str, until: datetime) -> None:
        if run_ids:
            with self.transaction() as conn:
                leases.extend_leases(conn, run_ids, worker_id, until)

    def release_runs(self, run_ids: list[UUID], worker_id: str, now: datetime) -> None:
        if run_ids:
            with self.transaction() as conn:
                leases.release_runs(conn, run_ids, worker_id, now)
                wakeups.notify(conn, self.dialect)  # for another worker to take them

    def lapsed_claims(self, now: datetime) -> list[tuple[Claim, Run]]:
        with self.reading() as conn:
            return leases.lapsed_claims(conn, now)

    def record_outcomes(self, outcomes: list[Outcome]) -> list[Recorded]:
        if not outcomes:
            return []
        with self.transaction() as conn:
            verdicts = recording.record_outcomes(conn, self.dialect, outcomes, self.quiet_period)
            if any(o.retry_at is not None for o in outcomes):  # a retry was queued
                wakeups.notify(conn, self.dialect)
            return verdicts

    # --- alerts: overdue jobs, maintenance windows ----------------------------------------

    def raise_overdue(self, now: datetime, *, limit: int = 500) -> list[Event]:
        # A read first: the write transaction (SQLite's write lock) only when there is news.
        with self.reading() as conn:
            if not alerts.unraised_overdue(conn, now, 1):
                return []
        with self.transaction() as conn:
            events = alerts.raise_overdue(conn, self.dialect, now, limit)
            notifications.add_events(conn, self.dialect, events, self.quiet_period)
            return events

    def insert_window(self, values: dict[str, Any]) -> MaintenanceWindow:
        with self.transaction() as conn:
            return alerts.insert_window(conn, values)

    def list_windows(
        self, *, tenant_id: UUID | None = None, ended_after: datetime
    ) -> list[MaintenanceWindow]:
        with self.reading() as conn:
            return alerts.list_windows(conn, tenant_id, ended_after)

    def delete_window(self, window_id: UUID, *, tenant_id: UUID | None = None) -> bool:
        with self.transaction() as conn:
            return alerts.delete_window(conn, window_id, tenant_id)

    # --- retention ---------------------------------------------------------------------------

    def stored_setting(self, name: str) -> str | None:
        with self.reading() as conn:
            return retention.stored_setting(conn, name)

    def prune_runs(
        self,
        *,
        before: datetime,
        after: RunKey | None,
        limit: int,
        holder: str,
        now: datetime,
    ) -> PruneBatch | None:
        with self.transaction() as conn:
            return retention.prune_batch(
                conn, self.dialect, before=before, after=after, limit=limit, holder=holder, now=now
            )

    def end_pruning(self, holder: str, now: datetime) -> None:
        with self.transaction() as conn:
            retention.release_lock(conn, self.dialect, holder, now)

    def refresh_job_search(
        self,
        *,
        holder: str,
        now: datetime,
        every: timedelta,
        full: bool = False,
        before_exit: bool = False,
    ) -> search.RefreshPass | None:
        """One pass of the jobs list's copy of last_run and last_status (store/search.py), in
        a short transaction of its own; None when another process made one within `every`
        or is making one (unless `before_exit`)."""
        with self.transaction() as conn:
            return search.refresh(
                conn,
                self.dialect,
                holder=holder,
                now=now,
                every=every,
                full=full,
                before_exit=before_exit,
            )

    # --- status ------------------------------------------------------------------------------

    def due_jobs(self, now: datetime) -> dict[UUID, UUID | None]:
        with self.reading() as conn:
            return status.due_jobs(conn, now)

    def earliest_next_run(self) -> datetime | None:
        with self.reading() as conn:
            return status.earliest_next_run(conn)

    def runs_in_progress(self) -> list[tuple[Run, str]]:
        with self.reading() as conn:
            return status.runs_in_progress(conn)

    def due_count(self, now: datetime) -> int:
        with self.reading() as conn:
            return status.due_count(conn, now)

    def overdue_jobs(self, now: datetime, *, tenant_id: UUID | None = None) -> list[Job]:
        with self.reading() as conn:
            return status.overdue_jobs(conn, now, tenant_id)

    def job_counts(self) -> dict[bool, int]:
        with self.reading() as conn:
            return status.job_counts(conn)

    def run_counts(self) -> dict[RunStatus, int]:
        with self.transaction() as conn:  # a scrape keeps the tally a few rows
            status.fold_run_tally(conn, self.dialect)
        with self.reading() as conn:
            return status.run_counts(conn)

    def failing_jobs(self) -> list[Job]:
        with self.reading() as conn:
            return status.failing_jobs(conn)

    def job_evidence(self, job: Job) -> Evidence:
        with self.reading() as conn:
            return evidence.job_evidence(conn, job)

    def list_runs(self, job_id: UUID, query: RunQuery | None = None) -> list[Run]:
        with self.reading() as conn:
            return status.list_runs(conn, job_id, query or RunQuery())

    def latest_runs(
        self, job_ids: Iterable[UUID], *, tenant_id: UUID | None = None
    ) -> dict[UUID, Run]:
        with self.reading() as conn:
            return status.latest_runs(conn, job_ids, tenant_id)

    def get_run(self, job_id: UUID, run_id: UUID) -> Run | None:
        with self.reading() as conn:
            return status.get_run(conn, job_id, run_id)

    # --- the Web UI's pictures --------------------------------------------------------------

    def recent_runs(
        self, job_ids: Iterable[UUID], *, limit: int, tenant_id: UUID | None = None
    ) -> dict[UUID, list[RunTiming]]:
        with self.reading() as conn:
            return status.recent_runs(conn, self.dialect, job_ids, limit, tenant_id)

    def minute_activity(
        self, since: datetime, *, tenant_id: UUID | None = None
    ) -> list[MinuteActivity]:
        with self.reading() as conn:
            return activity.minute_activity(conn, since, tenant_id)


@contextmanager
def _translated() -> Iterator[None]:
    """The store's boundary: the database's refusals become cronbase errors, raised from the
    driver's error (which the log then shows)."""
    try:
        yield
    except sa.exc.IntegrityError as exc:
        raise ConcurrentChange(
            f"the database refused the change, which conflicts with a concurrent one: {exc.orig}"
        ) from exc
    except sa.exc.DataError as exc:
        raise ValueRefused(f"the database refused a value: {exc.orig}") from exc
