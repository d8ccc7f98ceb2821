"""Domain operations shared by the CLI (and later the API and UI): validate, then store."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from cronbase.auth import PermissionDenied, Principal, Role
from cronbase.clock import Clock
from cronbase.errors import InvalidJob, InvalidSchedule, JobNotFound
from cronbase.jobs import Isolation, Job, MisfirePolicy, OverlapPolicy, Run, json_problem
from cronbase.monitoring import keep_monitoring_keys
from cronbase.registry import JobRegistry
from cronbase.schedule import parse_schedule, validate_timezone
from cronbase.store import SqlStore

MAX_NAME_LENGTH = 200
MAX_ATTEMPTS = 20
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")

# The caller for work that no user asks for: the CLI, the worker, the seed.
SYSTEM = Principal("system", Role.SUPERADMIN, None)


@dataclass(frozen=True)
class JobSpec:
    """What a client gives to create a job (the seed's POST body, plus timezone)."""

    name: str
    schedule: str
    function_name: str
    tenant_id: UUID | None = None
    is_active: bool = True
    metadata: dict[str, Any] = field(default_factory=dict)
    timezone: str = "UTC"
    priority: int = 0
    timeout_seconds: int | None = None
    misfire_policy: str = MisfirePolicy.COALESCE.value
    catchup_window_seconds: int | None = None
    overlap_policy: str = OverlapPolicy.SKIP.value
    max_attempts: int = 1
    retry_delay_seconds: int = 30
    isolation: str = Isolation.THREAD.value


class JobManager:
    def __init__(self, store: SqlStore, registry: JobRegistry, clock: Clock) -> None:
        self.store = store
        self.registry = registry
        self.clock = clock

    def create_job(self, spec: JobSpec, caller: Principal) -> Job:
        """Validate `spec` and store it with its first next_run. Raise InvalidJob, storing nothing.

        An admin's job belongs to the admin's tenant; naming another tenant is PermissionDenied.
        """
        if not caller.is_superadmin:
            if spec.tenant_id not in (None, caller.tenant_id):
                raise PermissionDenied("an admin can create jobs for their own tenant only")
            spec = replace(spec, tenant_id=caller.tenant_id)
        values = self._validated(spec)
        values["metadata"] = keep_monitoring_keys(values["metadata"], {})
        now = self.clock.now()
        values.update(next_run=self._next_run(values), created_at=now, updated_at=now)
        return self.store.insert_job(values)

    def get_job(self, job_id: UUID, caller: Principal) -> Job:
        """The job, or JobNotFound if it does not exist or the caller may not see it."""
        job = self.store.get_job(job_id)
        if job is None or not caller.can_see(job.tenant_id):
            raise JobNotFound(job_id)
        return job

    def list_jobs(
        self,
        caller: Principal,
        *,
        tenant_id: UUID | None = None,
        is_active: bool | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Job]:
        """A page of the jobs the caller may see, oldest first."""
        if not caller.is_superadmin:
            if tenant_id not in (None, caller.tenant_id):
                raise PermissionDenied("an admin can list their own tenant's jobs only")
            tenant_id = caller.tenant_id
        return self.store.list_jobs(
            tenant_id=tenant_id, is_active=is_active, limit=limit, offset=offset
        )

    def update_job(self, job_id: UUID, changes: dict[str, Any], caller: Principal) -> Job:
        """Apply `changes` (any JobSpec fields) after validating the result as a whole.

        next_run is recomputed when the schedule or time zone changes or the job is
        re-activated, and left alone otherwise.
        """
        job = self.get_job(job_id, caller)
        unknown = set(changes) - set(JobSpec.__dataclass_fields__)
        if unknown:
            raise InvalidJob([(field, "is not a job field") for field in sorted(unknown)])
        if "tenant_id" in changes and not caller.can_see(changes["tenant_id"]):
            raise PermissionDenied("an admin can move jobs within their own tenant only")
        current = JobSpec(
            name=job.name,
            schedule=job.schedule,
            function_name=job.function_name or "",
            tenant_id=job.tenant_id,
            is_active=job.is_active,
            metadata=job.metadata,
            timezone=job.timezone,
            priority=job.priority,
            timeout_seconds=job.timeout_seconds,
            misfire_policy=job.misfire_policy,
            catchup_window_seconds=job.catchup_window_seconds,
            overlap_policy=job.overlap_policy,
            max_attempts=job.max_attempts,
            retry_delay_seconds=job.retry_delay_seconds,
            isolation=job.isolation,
        )
        values = self._validated(replace(current, **changes))
        values = {key: value for key, value in values.items() if key in changes}
        if "metadata" in values:
            values["metadata"] = keep_monitoring_keys(values["metadata"], job.metadata)
        if _reschedules(job, values):
            values["next_run"] = self._next_run({**current.__dict__, **values})
        values["updated_at"] = self.clock.now()
        updated = self.store.update_job(job_id, values, tenant_id=_scope(caller))
        if updated is None:  # deleted meanwhile
            raise JobNotFound(job_id)
        return updated

    def delete_job(self, job_id: UUID, caller: Principal) -> None:
        self.get_job(job_id, caller)
        if not self.store.delete_job(job_id, tenant_id=_scope(caller)):
            raise JobNotFound(job_id)

    def list_runs(
        self, job_id: UUID, caller: Principal, *, limit: int = 50, offset: int = 0
    ) -> list[Run]:
        """A page of the job's runs, newest first."""
        self.get_job(job_id, caller)
        return self.store.list_runs(job_id, limit=limit, offset=offset)

    def latest_runs(self, job_ids: Iterable[UUID], caller: Principal) -> dict[UUID, Run]:
        """The newest run of each of the jobs that has one, leaving out the jobs that do not
        exist or that the caller may not see (one query however many jobs)."""
        if caller.is_superadmin:
            return self.store.latest_runs(job_ids)
        if caller.tenant_id is None:  # an admin always has a tenant; never show global jobs
            return {}
        return self.store.latest_runs(job_ids, tenant_id=caller.tenant_id)

    def run_now(self, job_id: UUID, caller: Principal) -> Run:
        """Queue a manual run of the job, outside its schedule; a worker starts it as soon as
        it has a free slot (and the job's previous run, if any, has ended). Return the queued
        run; if one is already waiting, return that one instead of queueing another."""
        self.get_job(job_id, caller)
        run = self.store.enqueue_run(job_id, self.clock.now(), tenant_id=_scope(caller))
        if run is None:  # deleted meanwhile
            raise JobNotFound(job_id)
        return run

    def _next_run(self, values: dict[str, Any]) -> datetime:
        return parse_schedule(values["schedule"], values["timezone"]).next_after(self.clock.now())

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
        return self.store.insert_jobs_unless_named(rows)

    def _validated(self, spec: JobSpec) -> dict[str, Any]:
        errors: list[tuple[str, str]] = []
        name = spec.name.strip() if isinstance(spec.name, str) else ""
        if not name:
            errors.append(("name", "must not be blank"))
        elif len(name) > MAX_NAME_LENGTH:
            errors.append(("name", f"is {len(name)} characters long; at most {MAX_NAME_LENGTH}"))
        elif _CONTROL_CHARACTERS.search(name):
            errors.append(("name", "must be one line of printable text (no control characters)"))
        timezone = "UTC"
        try:
            timezone = validate_timezone(spec.timezone)
        except InvalidSchedule as exc:
            errors.append(("timezone", str(exc)))
        try:
            parse_schedule(spec.schedule, timezone)
        except InvalidSchedule as exc:
            errors.append(("schedule", str(exc)))
        if spec.function_name not in self.registry:
            known = ", ".join(self.registry.names())
            message = (
                f"{spec.function_name!r} is not a registered job function; choose one of: {known}"
            )
            errors.append(("function_name", message))
        errors.extend(_metadata_errors(spec.metadata))
        errors.extend(_execution_errors(spec))
        errors.extend(_policy_errors(spec))
        if spec.tenant_id is not None and not self.store.tenant_exists(spec.tenant_id):
            errors.append(("tenant_id", f"no tenant with id {spec.tenant_id}"))
        if errors:
            raise InvalidJob(errors)
        return {
            "name": name,
            "schedule": spec.schedule.strip(),
            "function_name": spec.function_name,
            "tenant_id": spec.tenant_id,
            "is_active": spec.is_active,
            "metadata": spec.metadata,
            "timezone": timezone,
            "priority": spec.priority,
            "timeout_seconds": spec.timeout_seconds,
            "misfire_policy": spec.misfire_policy,
            "catchup_window_seconds": spec.catchup_window_seconds,
            "overlap_policy": spec.overlap_policy,
            "max_attempts": spec.max_attempts,
            "retry_delay_seconds": spec.retry_delay_seconds,
            "isolation": spec.isolation,
        }


def _scope(caller: Principal) -> UUID | None:
    """The tenant a write must stay within: the caller's, unless a superadmin."""
    return None if caller.is_superadmin else caller.tenant_id


def _reschedules(job: Job, changes: dict[str, Any]) -> bool:
    return (
        changes.get("schedule", job.schedule) != job.schedule
        or changes.get("timezone", job.timezone) != job.timezone
        or (changes.get("is_active") is True and not job.is_active)
    )


def _whole(value: Any, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high


def _execution_errors(spec: JobSpec) -> list[tuple[str, str]]:
    errors = []
    if not _whole(spec.priority, -1000, 1000):
        errors.append(("priority", "must be an integer from -1000 to 1000 (higher runs first)"))
    if spec.timeout_seconds is not None and not _whole(spec.timeout_seconds, 1, 7 * 86400):
        message = "must be a whole number of seconds from 1 to 604800, or null for no limit"
        errors.append(("timeout_seconds", message))
    if not _whole(spec.max_attempts, 1, MAX_ATTEMPTS):
        message = f"must be a whole number from 1 (no retries) to {MAX_ATTEMPTS}"
        errors.append(("max_attempts", message))
    if not _whole(spec.retry_delay_seconds, 1, 86400):
        message = (
            "must be a whole number of seconds from 1 to 86400 (the delay before the first retry)"
        )
        errors.append(("retry_delay_seconds", message))
    if spec.isolation not in {i.value for i in Isolation}:
        allowed = ", ".join(i.value for i in Isolation)
        errors.append(("isolation", f"{spec.isolation!r} is not one of: {allowed}"))
    return errors


def _policy_errors(spec: JobSpec) -> list[tuple[str, str]]:
    errors = []
    for field_name, policy in (
        ("misfire_policy", MisfirePolicy),
        ("overlap_policy", OverlapPolicy),
    ):
        value = getattr(spec, field_name)
        if value not in {p.value for p in policy}:
            allowed = ", ".join(p.value for p in policy)
            errors.append((field_name, f"{value!r} is not one of: {allowed}"))
    window = spec.catchup_window_seconds
    if window is not None and (type(window) is not int or not 1 <= window <= 366 * 86400):
        message = "must be a whole number of seconds from 1 to 31622400, or null for no limit"
        errors.append(("catchup_window_seconds", message))
    return errors


def _metadata_errors(metadata: Any) -> list[tuple[str, str]]:
    if not isinstance(metadata, dict):
        return [("metadata", f"must be a JSON object, got {type(metadata).__name__}")]
    problem = json_problem(metadata)
    return [("metadata", problem)] if problem else []
