"""The domain layer's operations on the dependency graph and backfills, a part of JobManager
(manager.py), which the API and the CLI call them through."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from cronbase.audit import Auditor
from cronbase.auth import Principal
from cronbase.backfill import (
    Backfill,
    backfill_slots,
    passed_by_the_schedule,
    refuse_the_future,
)
from cronbase.dependency_rules import Linked
from cronbase.errors import BackfillNotFound, InvalidBackfill, JobNotFound
from cronbase.jobs import Job, Run
from cronbase.schedule import parse_schedule

if TYPE_CHECKING:
    from cronbase.clock import Clock
    from cronbase.store import SqlStore


@dataclass(frozen=True)
class Dependencies:
    """A job's place in the dependency graph: what it runs after, what runs after it."""

    job: Job
    upstream: list[tuple[Linked, Job]]
    downstream: list[tuple[Linked, Job]]


class GraphOperations:
    """Dependencies and backfills; mixed into JobManager, whose store, clock and get_job
    these use."""

    store: SqlStore
    clock: Clock

    def get_job(self, job_id: UUID, caller: Principal) -> Job:
        raise NotImplementedError

    def dependencies(self, job_id: UUID, caller: Principal) -> Dependencies:
        """The job's upstreams and its dependents, transitively, each with its depth."""
        job = self.get_job(job_id, caller)
        ups, downs, jobs = self.store.linked_jobs(job_id)
        # Edges stay within a tenant, so the caller may see them all; checked all the same.
        visible = {key: j for key, j in jobs.items() if caller.can_see(j.tenant_id)}
        return Dependencies(
            job=job,
            upstream=[(link, visible[link.job_id]) for link in ups if link.job_id in visible],
            downstream=[(link, visible[link.job_id]) for link in downs if link.job_id in visible],
        )

    def backfill(
        self,
        job_id: UUID,
        caller: Principal,
        *,
        start: datetime,
        end: datetime,
        include_dependents: bool = False,
        dry_run: bool = False,
    ) -> tuple[Backfill | None, list[datetime]]:
        """Queue the job's slots in [start, end) that have no succeeded, running or pending
        run (see cronbase.backfill); with `dry_run`, only list them. InvalidBackfill for a bad range,
        an on_demand job or more than MAX_BACKFILL_SLOTS slots."""
        job, now = self.get_job(job_id, caller), self.clock.now()
        for name, instant in (("start", start), ("end", end)):
            if instant.tzinfo is None or instant.utcoffset() is None:
                raise InvalidBackfill(
                    [(name, "needs a zone or offset, e.g. 2026-11-30T00:00:00+01:00")]
                )

        refuse_the_future(end, now)

        def slots_of(job: Job) -> list[datetime]:
            slots = backfill_slots(parse_schedule(job.schedule, job.timezone), start, end)
            return passed_by_the_schedule(job, slots)

        # A range too large is refused here, before the store locks the job: counting its
        # slots takes a while, and on SQLite the lock is the whole database's. Under the lock
        # they are counted again, from the schedule as it is then.
        slots_of(job)

        values = {
            "start": start,
            "end": end,
            "include_dependents": include_dependents,
            "dry_run": dry_run,
        }
        done = self.store.create_backfill(
            job_id,
            slots_of,
            values,
            now,
            tenant_id=scope(caller),
            audit_of=Auditor(caller, now).backfilled(job),  # not for a dry run
        )
        if done is None:  # deleted meanwhile
            raise JobNotFound(job_id)
        return done

    def get_backfill(self, job_id: UUID, backfill_id: UUID, caller: Principal) -> Backfill:
        self.get_job(job_id, caller)
        found = self.store.get_backfill(job_id, backfill_id)
        if found is None:
            raise BackfillNotFound(backfill_id)
        return found

    def cancel_backfill(self, job_id: UUID, backfill_id: UUID, caller: Principal) -> Backfill:
        """Remove the backfill's waiting runs; those running finish."""
        job, now = self.get_job(job_id, caller), self.clock.now()
        cancelled = Auditor(caller, now).backfill_cancelled(job)
        found = self.store.cancel_backfill(job_id, backfill_id, now, audit_of=cancelled)
        if found is None:
            raise BackfillNotFound(backfill_id)
        return found

    def upstream_runs(self, runs: list[Run], caller: Principal) -> dict[str, tuple[UUID, str]]:
        """For the runs' triggered_by ids: {upstream run id: (its job's id, the job's name)},
        for the upstream runs that still exist and the caller may see."""
        ids = [UUID(run_id) for run in runs for run_id in run.triggered_by or ()]
        # The caller's scope is the statement's filter: no look-up of each upstream job.
        found = self.store.runs_jobs(ids, tenant_id=scope(caller))
        return {str(run_id): job for run_id, job in found.items()}


def scope(caller: Principal) -> UUID | None:
    """The tenant a write must stay within: the caller's, unless a superadmin."""
    return None if caller.is_superadmin else caller.tenant_id
