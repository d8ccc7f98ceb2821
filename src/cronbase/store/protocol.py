"""The store's contract: what cronbase asks of its database, stated once.

SqlStore (sql.py) is the implementation, for SQLite and PostgreSQL alike; it holds the
defaults written `...` here (a `tenant_id` of None: any tenant; a page of 100 jobs or 50 runs
from the first; a claim of at most 100 runs, leased for DEFAULT_LEASE). Every method runs
in a transaction of its own and raises cronbase errors: ConcurrentChange when a write loses
to a concurrent change (a tenant or job deleted meanwhile), ValueRefused when the database
refuses a value; the driver's OperationalError (the database is unreachable) passes through.
The writes the domain layer audits (a job's insert, update and delete, a manual run, a
backfill and its cancelling) take the entry of the audit log (cronbase.audit), or a function
making it from what the write read: written in the same transaction, only if the write was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

import sqlalchemy as sa

from cronbase.activity import MinuteActivity, RunTiming
from cronbase.audit import AuditEntry, AuditQuery
from cronbase.backfill import Backfill
from cronbase.dependency_rules import Linked
from cronbase.explain import Evidence
from cronbase.fair_share import TenantShares
from cronbase.jobs import Claim, Job, Outcome, Recorded, Run, RunStatus, SlotPlan
from cronbase.listing import JobQuery, RunQuery
from cronbase.notify.flood import MaintenanceWindow
from cronbase.notify.model import (
    Channel,
    Delivery,
    Event,
    Finished,
    Notification,
)
from cronbase.store.retention import PruneBatch, RunKey

# Given a due job and "now": which slot runs, which are missed, and the next next_run.
PlanSlots = Callable[[Job, datetime], SlotPlan]


class Store(Protocol):
    engine: sa.Engine

    def connection(self) -> AbstractContextManager[sa.Connection]:
        """A connection in commit-as-you-go mode, for job functions; uncommitted work is
        rolled back on exit. It does not lock other processes out while the job waits."""
        ...

    # --- tenants and jobs ---------------------------------------------------------------------

    def insert_tenant(self, name: str) -> UUID: ...

    def list_tenants(self) -> list[tuple[UUID, str]]:
        """(id, name) of every tenant, by name."""
        ...

    def tenant_name(self, tenant_id: UUID) -> str | None: ...  # None: no such tenant

    def insert_job(self, values: dict[str, Any], *, max_per_tenant: int | None = ...) -> Job:
        """Insert a job from validated values (`depends_on` to the graph, checked under its
        lock: InvalidJob); return it. With `max_per_tenant`, QuotaExceeded if its tenant has
        that many jobs (checked in the inserting transaction; global jobs count for none)."""
        ...

    def insert_jobs_unless_named(self, jobs: list[dict[str, Any]]) -> list[Job]:
        """Insert each global job whose name no global job has yet; return the inserted ones.
        Safe when several processes seed at once."""
        ...

    def update_job(
        self,
        job_id: UUID,
        values: dict[str, Any],
        *,
        tenant_id: UUID | None = ...,
        max_per_tenant: int | None = ...,
    ) -> Job | None:
        """Set `values` on the job; return it, or None if it does not exist (or, with
        `tenant_id`, no longer belongs to that tenant). With `max_per_tenant`, a job moved to
        another tenant raises QuotaExceeded if that tenant is full. `depends_on` (when given)
        replaces the job's edges; a change its dependents forbid (another tenant, a schedule
        that breaks their wait_for all) raises DependencyConflict."""
        ...

    def delete_job(self, job_id: UUID, *, tenant_id: UUID | None = ..., detach: bool = ...) -> bool:
        """Delete the job, its runs and edges; False if it did not exist (or, with `tenant_id`,
        is not that tenant's). DependencyConflict if others depend on it, unless `detach`."""

    def linked_jobs(self, job_id: UUID) -> tuple[list[Linked], list[Linked], dict[UUID, Job]]:
        """Upstreams, dependents (dependency_rules.walk) and the jobs they name."""

    def create_backfill(
        self,
        job_id: UUID,
        slots_of: Callable[[Job], list[datetime]],
        values: dict[str, Any],
        now: datetime,
        *,
        tenant_id: UUID | None = ...,
    ) -> tuple[Backfill | None, list[datetime]] | None:
        """Queue the job's free slots as backfill runs (store/backfills.py); None: no job."""

    def get_backfill(self, job_id: UUID, backfill_id: UUID) -> Backfill | None: ...

    def job_audit(self, job_id: UUID, query: AuditQuery) -> list[AuditEntry]:
        """A page of the job's audit log, newest first (it outlives the job)."""

    def cancel_backfill(self, job_id: UUID, bid: UUID, now: datetime) -> Backfill | None: ...

    def runs_jobs(
        self, run_ids: list[UUID], *, tenant_id: UUID | None = ...
    ) -> dict[UUID, tuple[UUID, str]]:
        """{run id: (job id, job name)} of those runs that exist (with `tenant_id`, of that
        tenant's jobs)."""

    def get_job(self, job_id: UUID) -> Job | None: ...

    def list_jobs(self, query: JobQuery | None = ...) -> list[Job]:
        """A page of the jobs the query selects, in its sort's order (by default creation
        time), the id breaking ties, after its cursor's key if it has one."""
        ...

    def enqueue_run(
        self, job_id: UUID, now: datetime, *, tenant_id: UUID | None = ...
    ) -> Run | None:
        """Queue a manual run of the job, to start as soon as a worker is free; return it, or
        None if the job does not exist (or, with `tenant_id`, is not that tenant's). A manual
        run already waiting is returned instead of queueing a second one."""
        ...

    # --- claims and leases --------------------------------------------------------------------

    def claim_due(
        self,
        now: datetime,
        worker_id: str,
        plan: PlanSlots,
        limit: int = ...,
        lease: timedelta = ...,
        shares: TenantShares | None = None,
        started: datetime | None = None,  # the real now when `now` is a horizon ahead of it
    ) -> tuple[list[Claim], int]:
        """Claim up to `limit` runs in one transaction; return the claims and how many due
        jobs and pending runs were taken off the queue.

        Pending runs (retries, manual runs) whose time has come go first, one per job unless
        the job's overlap policy is `allow`, none of a job whose previous run still goes on,
        and none of a paused job but manual ones. Then due jobs, highest priority first, then
        the longest overdue: `plan` says, per job, which slot runs, which are missed and the
        next next_run. A slot that runs gets a run row (running, leased to `worker_id` until
        now + lease); missed slots get one `missed` row; a slot due while the job's previous
        run still goes on gets a `skipped` row, unless the overlap policy is `allow` (`queue`
        and catch_up jobs wait unclaimed until the previous run ends). Jobs another worker
        holds are passed over, not waited for. A slot that has a run row already does not run
        again, whatever the number of workers. Given the worker's `shares`, the runs of a
        tenant at its cap are passed over too, and no tenant gets more than its room; `shares`
        counts the claims made (see fair_share.py).
        """
        ...

    def extend_leases(self, run_ids: list[UUID], worker_id: str, until: datetime) -> None:
        """Renew the leases of the runs `worker_id` still holds."""
        ...

    def release_runs(self, run_ids: list[UUID], worker_id: str, now: datetime) -> None:
        """Give back runs `worker_id` claimed and never started (it is stopping): they become
        pending again, for any worker to take."""
        ...

    def lapsed_claims(self, now: datetime) -> list[tuple[Claim, Run]]:
        """Runs still running whose lease lapsed before `now` (their worker died, or lost the
        database for longer than the lease), each as a claim and as its run row; nothing is
        changed. Record them with record_outcomes (outcomes marked `lapsed`)."""
        ...

    # --- recording ----------------------------------------------------------------------------

    def record_outcomes(self, outcomes: list[Outcome]) -> list[Recorded]:
        """Record how claimed runs ended, in one transaction; say for each what happened.

        An outcome is recorded (RECORDED) if its run is still running, and, for an outcome
        marked `lapsed`, if the run's lease is still lapsed at its finished_at (else
        LEASE_RENEWED: the owner renewed it meanwhile). A run no longer running was recorded
        abandoned by another worker (ALREADY_ENDED); a run whose job was deleted meanwhile is
        gone (DELETED). An outcome with `retry_at` queues the next attempt as a pending run
        and leaves the job's monitoring keys alone; any other counts in them (only the last
        attempt counts).
        """
        ...

    # --- retention ----------------------------------------------------------------------------

    def stored_setting(self, name: str) -> str | None:
        """A setting kept in the database (cron_setting), or None if it is not there."""
        ...

    def prune_runs(
        self,
        *,
        before: datetime,
        after: RunKey | None,
        limit: int,
        holder: str,
        now: datetime,
    ) -> PruneBatch | None:
        """One batch of a pruning pass, in a short transaction of its own: look at up to
        `limit` run rows whose slot is before `before`, oldest first and after the key
        `after` (None: from the oldest), and delete those that may go: not pending or running,
        not among the newest `keep_runs` rows of their job (the attempts of that N-th slot
        stay too), not named by another run as its trigger. Return how many went and where
        the next batch starts (None once the cutoff is reached). Return None, doing nothing,
        while another pruner holds the fleet's pruning lock; `holder` names the pruner (on
        SQLite the lock is a row that lapses a minute after its holder's last batch)."""
        ...

    def end_pruning(self, holder: str, now: datetime) -> None:
        """`holder`'s pass is over: let another pruner start at once."""
        ...

    # --- alerts: overdue jobs, maintenance windows ---------------------------------------------

    def raise_overdue(self, now: datetime, *, limit: int = ...) -> list[Event]:
        """Raise job.overdue for up to `limit` jobs overdue at `now` (cronbase.overdue) whose
        episode (the job and its next_run) was not raised yet, in one transaction: the
        episode's row (its key keeps it to one, whichever process checks), the job's alert
        episode, and the notifications. Return the events raised."""
        ...

    def insert_window(self, values: dict[str, Any]) -> MaintenanceWindow:
        """Insert a maintenance window from validated column values."""
        ...

    def list_windows(
        self, *, tenant_id: UUID | None = ..., ended_after: datetime
    ) -> list[MaintenanceWindow]:
        """The windows that end after `ended_after` (with `tenant_id`, that tenant's), by
        start."""
        ...

    def delete_window(self, window_id: UUID, *, tenant_id: UUID | None = ...) -> bool:
        """Delete a window; False if it does not exist (or is not that tenant's)."""
        ...

    # --- status -------------------------------------------------------------------------------

    def due_jobs(self, now: datetime) -> dict[UUID, UUID | None]:
        """The active jobs due at `now`, claimed or not, as {job id: tenant id}."""
        ...

    def earliest_next_run(self) -> datetime | None:
        """When the next run falls due: the earliest next_run of an active job, or run_after
        of a pending run that could start (not a paused job's retry); None if nothing will."""
        ...

    def runs_in_progress(self) -> list[tuple[Run, str]]:
        """Runs still going, oldest first, each with its job's name."""
        ...

    def due_count(self, now: datetime) -> int:
        """How many active jobs are due at `now`, claimed or not."""
        ...

    def overdue_jobs(self, now: datetime, *, tenant_id: UUID | None = ...) -> list[Job]:
        """The jobs overdue at `now` as cronbase.overdue defines it (active, next_run more than
        the job's overdue_after_seconds in the past, no run going or pending), longest overdue
        first; with `tenant_id`, that tenant's only."""
        ...

    def job_counts(self) -> dict[bool, int]:
        """{is_active: how many jobs}; a value no job has is left out."""
        ...

    def run_counts(self) -> dict[RunStatus, int]:
        """{status: runs}: for an ended status, the runs recorded with it so far (never
        lowered by pruning or deletion); for pending and running, the rows that have it now.
        A status with none may be left out."""
        ...

    def failing_jobs(self) -> list[Job]:
        """Active jobs whose latest counted run failed (their metadata carries last_error)."""
        ...

    def job_evidence(self, job: Job) -> Evidence:
        """The facts behind the job's state (cronbase.explain), in one read transaction."""
        ...

    def list_runs(self, job_id: UUID, query: RunQuery | None = ...) -> list[Run]:
        """A page of a job's runs (of the query's status, if it has one), newest first: by
        slot, then attempt, then id; after its cursor's key if it has one."""
        ...

    def latest_runs(
        self, job_ids: Iterable[UUID], *, tenant_id: UUID | None = ...
    ) -> dict[UUID, Run]:
        """{job id: its newest run} for those of the jobs that have runs (with `tenant_id`,
        only that tenant's jobs), in one query whatever the number of jobs."""
        ...

    def get_run(self, job_id: UUID, run_id: UUID) -> Run | None:
        """The run `run_id` of the job `job_id`, with its log and traceback (which the methods
        that list runs leave None); None if the job has no such run."""
        ...

    # --- notifications: channels, the outbox, delivery attempts ------------------------------

    def insert_channel(self, values: dict[str, Any]) -> Channel:
        """Insert a channel from validated column values (secrets already sealed)."""
        ...

    def get_channel(self, channel_id: UUID) -> Channel | None: ...

    def list_channels(
        self, *, tenant_id: UUID | None = ..., limit: int = ..., offset: int = ...
    ) -> list[Channel]:
        """A page of channels (with `tenant_id`, that tenant's only), oldest first."""
        ...

    def update_channel(
        self, channel_id: UUID, values: dict[str, Any], *, tenant_id: UUID | None = ...
    ) -> Channel | None:
        """Set `values`; None if the channel does not exist (or, with `tenant_id`, is not
        that tenant's)."""
        ...

    def delete_channel(self, channel_id: UUID, *, tenant_id: UUID | None = ...) -> bool:
        """Delete the channel with its notifications and their attempts."""
        ...

    def add_events(self, events: list[Event]) -> None:
        """Write a pending notification per event and channel that receives it (the tenant's
        and the global channels listing the event, for every job or one including it), in one
        transaction; a dedup_key a channel has already adds nothing.
        record_outcomes does the same inside its own transaction."""
        ...

    def add_notification(
        self, channel_id: UUID, event: Event, owner: str, lease_until: datetime
    ) -> Notification:
        """A notification of `event` for this channel alone, leased to `owner` (to send now)."""
        ...

    def claim_notifications(
        self, now: datetime, owner: str, lease: timedelta, limit: int = ...
    ) -> list[tuple[Notification, Channel]]:
        """Lease up to `limit` pending notifications due at `now` to `owner` until now + lease,
        oldest first, each with its channel and its attempt counted; rows another process
        holds are passed over (SKIP LOCKED). A row whose previous lease lapsed gets that
        attempt recorded as ended without an answer. Two processes never hold one attempt."""
        ...

    def finish_attempts(self, owner: str, finished: list[Finished]) -> list[bool]:
        """Record attempts `owner` made, in one transaction, and what follows each (delivered,
        failed, or pending again at its next_attempt_at); False for one `owner` no longer held
        (its lease lapsed; the attempt is kept anyway)."""
        ...

    def list_deliveries(
        self, channel_id: UUID, *, limit: int = ..., offset: int = ...
    ) -> list[Delivery]:
        """A page of the channel's delivery attempts, newest first."""
        ...

    def list_notifications(
        self, *, channel_id: UUID | None = ..., limit: int = ..., offset: int = ...
    ) -> list[Notification]:
        """A page of notifications (of one channel, or all), newest first."""
        ...

    def earliest_notification(self) -> datetime | None:
        """When the next pending notification falls due; None if none is pending."""
        ...

    def pending_notifications(self) -> int:
        """How many notifications wait to be delivered (pending), due or not."""
        ...

    def prune_notifications(self, before: datetime) -> int:
        """Delete delivered and failed notifications created before `before`; return how many."""

    def recent_runs(
        self, job_ids: Iterable[UUID], *, limit: int, tenant_id: UUID | None = ...
    ) -> dict[UUID, list[RunTiming]]:
        """{job id: its `limit` newest runs that started or ended (not pending), oldest
        first} for those of the jobs that have runs (with `tenant_id`, only that tenant's
        jobs), in one query on the run table whatever the number of jobs, each job's read
        from an index, however long its history."""
        ...

    def minute_activity(
        self, since: datetime, *, tenant_id: UUID | None = ...
    ) -> list[MinuteActivity]:
        """Per minute from `since` on, the runs that started in it (with `tenant_id`, of that
        tenant's jobs): how many, how many failed, their mean and greatest start lag; counted
        by the database (one GROUP BY). Minutes without runs are left out."""
        ...
