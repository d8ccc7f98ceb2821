"""The domain layer's operations on runs: listing and reading them, the activity the overview
and the jobs table chart, and queueing a manual run. A part of JobManager (manager.py), which
the API and the CLI call them through."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar
from uuid import UUID

from cronbase.activity import (
    MAX_RECENT_RUNS,
    MinuteActivity,
    RunTiming,
    activity_window,
    fill_minutes,
)
from cronbase.audit import Auditor
from cronbase.auth import Principal
from cronbase.errors import JobNotFound, RunNotFound
from cronbase.graph_operations import scope
from cronbase.jobs import Job, Run
from cronbase.listing import RUN_ORDER, Page, RunQuery, page_of, start_after

if TYPE_CHECKING:
    from cronbase.clock import Clock
    from cronbase.store import SqlStore

T = TypeVar("T")


def visible_to(caller: Principal, read: Callable[..., T], nothing: T) -> T:
    """`read` across every tenant for a superadmin, else within the caller's tenant (passed
    as tenant_id); `nothing` for an admin without one, who must never see global jobs."""
    if caller.is_superadmin:
        return read()
    if caller.tenant_id is None:
        return nothing
    return read(tenant_id=caller.tenant_id)


class RunOperations:
    """Runs; mixed into JobManager, whose store, clock and get_job these use."""

    store: SqlStore
    clock: Clock

    def get_job(self, job_id: UUID, caller: Principal) -> Job:
        raise NotImplementedError

    def list_runs(
        self,
        job_id: UUID,
        caller: Principal,
        *,
        status: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
        offset: int | None = None,
    ) -> Page:
        """A page of the job's runs (of one status, if given), newest first."""
        self.get_job(job_id, caller)
        after = start_after(RUN_ORDER, cursor, offset)
        query = RunQuery(status=status, after=after, limit=limit + 1, offset=offset or 0)
        return page_of(self.store.list_runs(job_id, query), RUN_ORDER, limit)

    def get_run(self, job_id: UUID, run_id: UUID, caller: Principal) -> Run:
        """One run of the job, with its log and traceback; JobNotFound if the caller may not
        see the job, RunNotFound if the run is not the job's."""
        self.get_job(job_id, caller)
        run = self.store.get_run(job_id, run_id)
        if run is None:
            raise RunNotFound(job_id, run_id)
        return run

    def latest_runs(self, job_ids: Iterable[UUID], caller: Principal) -> dict[UUID, Run]:
        """The newest run of each of the jobs that has one, leaving out the jobs that do not
        exist or that the caller may not see (one query however many jobs)."""
        return visible_to(caller, lambda **tenant: self.store.latest_runs(job_ids, **tenant), {})

    def recent_runs(
        self, job_ids: Iterable[UUID], caller: Principal, *, limit: int
    ) -> dict[UUID, list[RunTiming]]:
        """Each job's `limit` newest runs, oldest first (not pending ones), for the strips of
        the jobs table and a job's chart; jobs that do not exist, that the caller may not see
        or that never ran are left out (one query however many jobs)."""
        if not 1 <= limit <= MAX_RECENT_RUNS:
            raise ValueError(f"limit must be from 1 to {MAX_RECENT_RUNS}, not {limit}")
        return visible_to(
            caller, lambda **tenant: self.store.recent_runs(job_ids, limit=limit, **tenant), {}
        )

    def minute_activity(self, caller: Principal) -> list[MinuteActivity]:
        """The last hour minute by minute, oldest first, the current minute last: the runs
        that started in each, their failures and start lag, of the jobs the caller may see."""
        window = activity_window(self.clock.now())
        counted = visible_to(
            caller, lambda **tenant: self.store.minute_activity(window[0], **tenant), []
        )
        return fill_minutes(window, counted)

    def run_now(self, job_id: UUID, caller: Principal) -> Run:
        """Queue a manual run of the job, outside its schedule; a worker starts it as soon as
        it has a free slot (and the job's previous run, if any, has ended). Return the queued
        run; if one is already waiting, return that one instead of queueing another."""
        job, now = self.get_job(job_id, caller), self.clock.now()
        ran = Auditor(caller, now).ran(job)  # only a run queued now: a waiting one is no news
        run = self.store.enqueue_run(job_id, now, tenant_id=scope(caller), audit_of=ran)
        if run is None:  # deleted meanwhile
            raise JobNotFound(job_id)
        return run
