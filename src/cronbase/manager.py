"""The domain layer the API and the CLI go through: jobs, tenants, tokens, workers, status
(with the run operations of run_operations.py and the graph's of graph_operations.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from cronbase.audit import AuditOperations, Auditor
from cronbase.auth import PermissionDenied, Principal, Role
from cronbase.clock import Clock
from cronbase.errors import (
    ConfigurationError,
    InvalidFields,
    InvalidJob,
    InvalidQuery,
    InvalidSchedule,
    JobNotFound,
)
from cronbase.explain import (
    OVERDUE_STATES,
    Explanation,
    Facts,
    Fleet,
    explain,
    overdue_state,
    upcoming,
)
from cronbase.graph_operations import GraphOperations, scope
from cronbase.job_fields import SETTABLE_FIELDS, JobSpec
from cronbase.job_validation import check_name, unknown_field_errors, validated
from cronbase.jobs import Job, Run, RunStatus
from cronbase.limits import JobLimits
from cronbase.listing import JOB_SORTS, JobQuery, Page, page_of, parse_sort, start_after
from cronbase.monitoring import keep_monitoring_keys
from cronbase.notify.maintenance import MaintenanceManager
from cronbase.notify.manager import ChannelManager
from cronbase.registry import JobRegistry
from cronbase.run_operations import RunOperations, visible_to
from cronbase.schedule import jitter_offset, next_fire_with_offset, parse_schedule
from cronbase.store import SqlStore
from cronbase.store.tokens import TokenStore
from cronbase.store.workers import WorkerInfo, WorkerStore
from cronbase.token_cache import TokenCache
from cronbase.token_operations import TokenOperations

# A worker heartbeats every few seconds (at most CRONBASE_WORKER_MAX_SLEEP_SECONDS apart);
# one silent for this long is dead or cut off.
WORKER_STALE_AFTER = timedelta(minutes=2)

# The caller for work that no user asks for: the CLI, the worker, the seed.
SYSTEM = Principal("system", Role.SUPERADMIN, None)


@dataclass(frozen=True)
class Status:
    """What `cronbase status` shows: is anything running jobs, and are jobs keeping up?"""

    now: datetime
    workers: list[WorkerInfo]
    running: list[tuple[Run, str]]  # each run in progress, with its job's name
    due: int
    overdue: list[Job]  # as cronbase.overdue defines it: no run has started for too long
    failing: list[Job]  # jobs whose last run failed


@dataclass(frozen=True)
class Counts:
    """What the API's /metrics reports from the database, read at scrape time."""

    # by state: active, paused, overdue (cronbase.overdue; active too), and the overdue ones
    # again as overdue_no_worker or overdue_workers_busy (cronbase.explain)
    jobs: dict[str, int]
    workers_alive: int
    notifications_pending: int
    # runs recorded so far by the status they ended in, every such status present: a counter
    # that pruning and deletion never lower
    runs: dict[RunStatus, int]
    in_progress: dict[RunStatus, int]  # pending and running rows now


# The statuses of runs that have not ended: /metrics reports them as a gauge, not a counter.
GOING = (RunStatus.PENDING, RunStatus.RUNNING)


class JobManager(GraphOperations, RunOperations, AuditOperations, TokenOperations):
    """The domain layer: the only way the API and the CLI reach jobs, tenants, tokens and
    workers. It checks who may do what; the store only stores."""

    def __init__(
        self,
        store: SqlStore,
        registry: JobRegistry,
        clock: Clock,
        *,
        tokens: TokenStore | None = None,
        workers: WorkerStore | None = None,
        limits: JobLimits | None = None,
        channels: ChannelManager | None = None,
        token_cache: TokenCache | None = None,
    ) -> None:
        self.store = store
        # Notification channels (the bootstrap sets them up; a bare manager has none).
        self._channels = channels
        self.limits = limits or JobLimits()
        self.registry = registry
        self.clock = clock
        self.tokens = tokens or TokenStore(store.engine)
        self.token_cache = token_cache or TokenCache()
        self.workers = workers or WorkerStore(store.engine)
        # Maintenance windows, during which alerts are suppressed (notify/maintenance.py).
        self.maintenance = MaintenanceManager(store, clock)

    @property
    def channels(self) -> ChannelManager:
        """Notification channels: their own domain object, with the same callers."""
        if self._channels is None:
            raise ConfigurationError("this manager was built without notification channels")
        return self._channels

    def create_job(self, spec: JobSpec, caller: Principal) -> Job:
        """Validate `spec` and store it with its first next_run. Raise InvalidJob, storing nothing.

        An admin's job belongs to the admin's tenant; naming another tenant is PermissionDenied.
        """
        if not caller.is_superadmin:
            if spec.tenant_id not in (None, caller.tenant_id):
                raise PermissionDenied("an admin can create jobs for their own tenant only")
            spec = replace(spec, tenant_id=caller.tenant_id)
        values = self._validated(spec, new_metadata=True)
        values["metadata"] = keep_monitoring_keys(values["metadata"], {})
        now = self.clock.now()
        # The id is chosen here, not by the database: a staggered job's offset derives from it.
        values["id"] = uuid4()
        values.update(next_run=self._next_run(values, values["id"]), created_at=now, updated_at=now)
        return self.store.insert_job(
            values,
            max_per_tenant=self.limits.max_jobs_per_tenant,
            audit_of=Auditor(caller, now).created,
        )

    def get_job(self, job_id: UUID, caller: Principal) -> Job:
        """The job, or JobNotFound if it does not exist or the caller may not see it."""
        job = self.store.get_job(job_id)
        if job is None or not caller.can_see(job.tenant_id):
            raise JobNotFound(job_id)
        return job

    def list_jobs(self, caller: Principal, **request: Any) -> Page:
        """A page of the jobs the caller may see, oldest first unless sorted (JOB_SORTS).
        `request`: tenant_id, sort, cursor, limit (100), offset, and JobQuery's filters
        has_tenant, is_active, q, function_name, last_status."""
        query = self._job_query(caller, **request)
        return page_of(self.store.list_jobs(query), query.sort, query.limit - 1)

    def list_jobs_json(self, caller: Principal, **request: Any) -> Page:
        """list_jobs' page with each job as the JSON the API sends (store/job_json.py)."""
        query = self._job_query(caller, **request)
        return page_of(self.store.list_jobs_json(query), query.sort, query.limit - 1)

    def _job_query(
        self,
        caller: Principal,
        *,
        tenant_id: UUID | None = None,
        sort: str | None = None,
        cursor: str | None = None,
        limit: int = 100,
        offset: int | None = None,
        **filters: Any,
    ) -> JobQuery:
        """The query of a page of `limit` jobs, plus one: whether there is a next page."""
        if tenant_id is not None and filters.get("has_tenant") is False:
            why = "false asks for the global jobs, which have no tenant: leave out one of the two"
            raise InvalidQuery([("has_tenant", f"{why} (tenant_id was given)")])
        if not caller.is_superadmin:
            if tenant_id not in (None, caller.tenant_id):
                raise PermissionDenied("an admin can list their own tenant's jobs only")
            tenant_id = caller.tenant_id
        order = parse_sort(sort, JOB_SORTS)
        after = start_after(order, cursor, offset)  # InvalidQuery for a bad cursor
        return JobQuery(
            tenant_id, sort=order, after=after, limit=limit + 1, offset=offset or 0, **filters
        )

    def update_job(self, job_id: UUID, changes: dict[str, Any], caller: Principal) -> Job:
        """Apply `changes` (any JobSpec fields) after validating the result as a whole.

        next_run is recomputed when the schedule or time zone changes or the job is
        re-activated, and left alone otherwise.
        """
        job = self.get_job(job_id, caller)
        unknown = unknown_field_errors(changes)
        if unknown:
            raise InvalidJob(unknown)
        if "tenant_id" in changes and not caller.can_see(changes["tenant_id"]):
            raise PermissionDenied("an admin can move jobs within their own tenant only")
        current = JobSpec(**{f.name: getattr(job, f.name) for f in SETTABLE_FIELDS})
        if current.function_name is None:  # its function was lost: a change must name one
            current = replace(current, function_name="")
        # A job stored before the limits existed, or before its function's options were
        # checked, can still be paused or renamed: only metadata the change sends (or the
        # function it moves to) is held to them.
        values = self._validated(
            replace(current, **changes),
            new_metadata="metadata" in changes,
            check_options="metadata" in changes or "function_name" in changes,
        )
        values = {key: value for key, value in values.items() if key in changes}
        if "metadata" in values:
            values["metadata"] = keep_monitoring_keys(values["metadata"], job.metadata)
        if _reschedules(job, values):
            values["next_run"] = self._next_run({**asdict(current), **values}, job.id)
        values["updated_at"] = self.clock.now()
        moves = values.get("tenant_id", job.tenant_id) != job.tenant_id
        quota = self.limits.max_jobs_per_tenant if moves else None
        updated = self.store.update_job(
            job_id,
            values,
            tenant_id=scope(caller),
            max_per_tenant=quota,
            audit_of=Auditor(caller, values["updated_at"]).updated,  # paused, resumed, updated
        )
        if updated is None:  # deleted meanwhile
            raise JobNotFound(job_id)
        return updated

    def next_runs(self, job_id: UUID, caller: Principal, count: int = 5) -> list[datetime]:
        """The job's next `count` run times (cronbase.explain.upcoming)."""
        return upcoming(self.get_job(job_id, caller), self.clock.now(), count)

    def explain(self, job_id: UUID, caller: Principal) -> Explanation:
        """Why the job runs or not (cronbase.explain); only superadmins see the workers' hosts."""
        job, now = self.get_job(job_id, caller), self.clock.now()
        try:
            error, times = None, upcoming(job, now, 5)
        except InvalidSchedule as exc:
            error, times = exc.reason, []
        live = self.live_workers()
        facts = Facts(job, now, self.store.job_evidence(job), error, len(live), Fleet.of(live))
        hosts = [vars(w) | {"free_slots": w.free_slots} for w in live]
        return explain(facts, times, hosts if caller.is_superadmin else None)

    def preview_runs(
        self,
        schedule: str,
        timezone: str,
        count: int,
        caller: Principal,
        *,
        job_id: UUID | None = None,
        jitter_seconds: int | None = None,
    ) -> tuple[list[datetime], timedelta]:
        """The next `count` times a job with this schedule would run, and its jitter offset:
        the schedule's fire times plus the offset of `job_id` (an existing job the caller may
        see) with `jitter_seconds` (by default that job's own). Without a job, whose id the
        offset derives from, the fire times themselves. InvalidSchedule for a bad schedule."""
        parsed = parse_schedule(schedule, timezone)
        offset = timedelta(0)
        if job_id is not None:
            job = self.get_job(job_id, caller)
            jitter = job.jitter_seconds if jitter_seconds is None else jitter_seconds
            offset = jitter_offset(job.id, jitter, parsed)
        fires = parsed.preview(self.clock.now() - offset, count)
        return [fire + offset for fire in fires], offset

    def delete_job(self, job_id: UUID, caller: Principal, *, detach: bool = False) -> None:
        """Delete the job. If other jobs depend on it, DependencyConflict names them, unless
        `detach`, which removes their edges to it first (in the same transaction)."""
        job, auditor = self.get_job(job_id, caller), Auditor(caller, self.clock.now())
        entry, detached = auditor.deleted(job), auditor.detached_from(job)
        if not self.store.delete_job(
            job_id, tenant_id=scope(caller), detach=detach, entry=entry, detached_audit=detached
        ):
            raise JobNotFound(job_id)

    def _next_run(self, values: dict[str, Any], job_id: UUID) -> datetime | None:
        """The first fire time from now, plus the job's jitter offset; None for an on_demand
        job, which never falls due."""
        schedule = parse_schedule(values["schedule"], values["timezone"])
        offset = jitter_offset(job_id, values.get("jitter_seconds", 0), schedule)
        return next_fire_with_offset(schedule, self.clock.now(), offset)

    def seed_default_jobs(self, defaults: Sequence[Mapping[str, Any]]) -> list[Job]:
        """Create the jobs of `defaults` (each a dict of name, schedule, function_name,
        is_active and metadata) whose name no job has yet; return the ones created. The seed's
        are cronbase.builtin.DEFAULT_JOBS."""
        now = self.clock.now()
        rows = [
            {
                **values,
                "timezone": "UTC",
                "next_run": parse_schedule(values["schedule"]).next_after(now),
                # apart by a microsecond, so listings show them in the seed's order
                "created_at": now + timedelta(microseconds=index),
                "updated_at": now,
            }
            for index, values in enumerate(defaults)
        ]
        return self.store.insert_jobs_unless_named(rows, audit_of=Auditor(SYSTEM, now).created)

    def _validated(
        self, spec: JobSpec, *, new_metadata: bool, check_options: bool = True
    ) -> dict[str, Any]:
        tenant_exists = spec.tenant_id is None or (
            self.store.tenant_name(spec.tenant_id) is not None
        )
        function = spec.function_name
        options = self.registry.get(function).options if function in self.registry else None
        return validated(
            spec,
            function_names=self.registry.names(),
            tenant_exists=tenant_exists,
            limits=self.limits if new_metadata else None,
            options=options if check_options else None,
        )

    # --- tenants, workers and the deployment's health ------------------------------------------

    def create_tenant(self, name: str) -> UUID:
        """The new tenant's id; InvalidFields for a name that reads as nothing or as another
        (blank, control characters, bidirectional ones), held to what a job's name is, or that
        another tenant has (in any case)."""
        errors: list[tuple[str, str]] = []
        name = check_name(name, errors)
        # Tenants are told apart by name (the Web UI's tenant column and filter, `tenant
        # list`): a second "Acme" would be a tenant nobody could pick out.
        taken = [
            tid for tid, other in self.store.list_tenants() if other.casefold() == name.casefold()
        ]
        if not errors and taken:
            errors.append(
                ("name", f"a tenant named {name!r} exists (id {taken[0]}): pick another name")
            )
        if errors:
            raise InvalidFields(errors)
        return self.store.insert_tenant(name)

    def list_tenants(self, caller: Principal) -> list[tuple[UUID, str]]:
        """(id, name) of every tenant the caller may see: all for a superadmin, else their own."""
        return [row for row in self.store.list_tenants() if caller.can_see(row[0])]

    def tenant_name(self, tenant_id: UUID) -> str | None:
        return self.store.tenant_name(tenant_id)  # one row, not every tenant's (each /me)

    def overdue_jobs(self, caller: Principal) -> list[Job]:
        """The jobs the caller may see that are overdue now (cronbase.overdue), longest
        overdue first."""
        now = self.clock.now()
        return visible_to(caller, lambda **tenant: self.store.overdue_jobs(now, **tenant), [])

    def live_workers(self) -> list[WorkerInfo]:
        """Workers that have not stopped and heartbeated within WORKER_STALE_AFTER."""
        return self.workers.live(self.clock.now(), stale_after=WORKER_STALE_AFTER)

    def status(self) -> Status:
        now = self.clock.now()
        return Status(
            now=now,
            workers=self.workers.live(now, stale_after=WORKER_STALE_AFTER),
            running=self.store.runs_in_progress(),
            due=self.store.due_count(now),
            overdue=self.store.overdue_jobs(now),
            failing=self.store.failing_jobs(),
        )

    def counts(self) -> Counts:
        """Jobs by state, live workers, notifications waiting, runs recorded by status and
        runs going, across every tenant."""
        jobs = self.store.job_counts()
        runs = self.store.run_counts()
        overdue = len(self.store.overdue_jobs(self.clock.now()))
        alive = len(self.live_workers())
        # The overdue jobs again under the state cronbase.explain gives them, the other 0.
        split = {state.value: 0 for state in OVERDUE_STATES} | {overdue_state(alive).value: overdue}
        return Counts(
            jobs={"active": jobs.get(True, 0), "paused": jobs.get(False, 0), "overdue": overdue}
            | split,
            workers_alive=alive,
            notifications_pending=self.store.pending_notifications(),
            runs={status: runs.get(status, 0) for status in RunStatus if status not in GOING},
            in_progress={status: runs.get(status, 0) for status in GOING},
        )


def _reschedules(job: Job, changes: dict[str, Any]) -> bool:
    return (
        changes.get("schedule", job.schedule) != job.schedule
        or changes.get("timezone", job.timezone) != job.timezone
        or changes.get("jitter_seconds", job.jitter_seconds) != job.jitter_seconds
        or (changes.get("is_active") is True and not job.is_active)
    )
