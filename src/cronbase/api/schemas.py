"""Request and response bodies. Responses use the seed's envelope: {"status", "data"}."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from cronbase.jobs import Isolation, MisfirePolicy, OverlapPolicy

T = TypeVar("T")

# Lengths are capped here so huge strings stop at the door; the manager checks the content.
Name = Annotated[str, StringConstraints(max_length=200)]
Schedule = Annotated[str, StringConstraints(max_length=1000)]
FunctionName = Annotated[str, StringConstraints(max_length=200)]
Zone = Annotated[str, StringConstraints(max_length=100)]


class Envelope(BaseModel, Generic[T]):
    status: Literal["success"] = "success"
    data: T


class FieldError(BaseModel):
    field: str | None = Field(description="the offending field, e.g. 'schedule' or 'query.limit'")
    message: str


class ErrorEnvelope(BaseModel):
    status: Literal["error"] = "error"
    message: str
    errors: list[FieldError] = []


class JobCreate(BaseModel):
    """The seed's POST body, plus `timezone`."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    schedule: Schedule = Field(examples=["every_5_minutes", "hourly", "cron:0 2 * * *"])
    function_name: FunctionName = Field(examples=["markUsersOffline"])
    is_active: bool = True
    tenant_id: UUID | None = Field(None, description="omit (or null) for a global job")
    metadata: dict[str, Any] = Field(default_factory=dict)
    timezone: Zone = Field("UTC", description="IANA time zone the schedule is read in")
    priority: int = Field(0, description="-1000 to 1000; when slots are short, higher runs first")
    timeout_seconds: int | None = Field(None, description="a longer run is recorded timed_out")
    misfire_policy: MisfirePolicy = Field(
        MisfirePolicy.COALESCE,
        description="slots missed while nothing ran: one run for all "
        "(coalesce), each in turn (catch_up), or none (skip)",
    )
    catchup_window_seconds: int | None = Field(
        None, description="catch_up: older slots are missed; skip: a slot this late still runs"
    )
    overlap_policy: OverlapPolicy = Field(
        OverlapPolicy.SKIP,
        description="a slot due while the previous run goes on: record it "
        "skipped, run it anyway (allow), or run it when the previous one ends (queue)",
    )
    max_attempts: int = Field(1, description="1 to 20; a failed run is retried until this many")
    retry_delay_seconds: int = Field(
        30, description="wait before the first retry; doubled at each further attempt, with jitter"
    )
    isolation: Isolation = Field(
        Isolation.THREAD,
        description="run in a thread of the worker (thread) or in a child process that is "
        "killed at the deadline (process)",
    )


class JobUpdate(BaseModel):
    """Any of the job's fields; those left out keep their values."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    schedule: Schedule | None = None
    function_name: FunctionName | None = None
    is_active: bool | None = None
    tenant_id: UUID | None = None
    metadata: dict[str, Any] | None = None
    timezone: Zone | None = None
    priority: int | None = None
    timeout_seconds: int | None = None
    misfire_policy: MisfirePolicy | None = None
    catchup_window_seconds: int | None = None
    overlap_policy: OverlapPolicy | None = None
    max_attempts: int | None = None
    retry_delay_seconds: int | None = None
    isolation: Isolation | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> JobUpdate:
        # Leaving a field out keeps it; null would erase it. Only tenant_id may be null (global).
        nullable = {"tenant_id", "timeout_seconds", "catchup_window_seconds"}
        nulls = [f for f in self.model_fields_set if f not in nullable and getattr(self, f) is None]
        if nulls:
            raise ValueError(
                f"{', '.join(sorted(nulls))} cannot be null; leave a field out to keep it"
            )
        return self


class JobPublic(BaseModel):
    """The seed's job object, plus tenant, time zone and timestamps."""

    id: UUID
    tenant_id: UUID | None
    name: str
    schedule: str
    function_name: str | None
    is_active: bool
    last_run: datetime | None
    next_run: datetime | None
    metadata: dict[str, Any]
    timezone: str
    created_at: datetime
    updated_at: datetime
    priority: int
    timeout_seconds: int | None
    misfire_policy: str
    catchup_window_seconds: int | None
    overlap_policy: str
    max_attempts: int
    retry_delay_seconds: int
    isolation: str


class Page(BaseModel):
    limit: int
    offset: int
    next_offset: int | None = Field(description="offset of the next page; null on the last")


class JobList(BaseModel):
    jobs: list[JobPublic]
    pagination: Page


class JobData(BaseModel):
    job: JobPublic


class Deleted(BaseModel):
    id: UUID
    deleted: Literal[True] = True


class RunPublic(BaseModel):
    id: UUID
    job_id: UUID
    tenant_id: UUID | None
    scheduled_for: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    status: str
    result: dict[str, Any] | None
    error: str | None
    attempt: int
    worker_id: str | None
    trigger: str
    run_after: datetime | None = Field(description="when a pending run (a retry) may start")


class RunData(BaseModel):
    run: RunPublic


class RunList(BaseModel):
    runs: list[RunPublic]
    pagination: Page


class Counts(BaseModel):
    total: int
    executed: int
    skipped: int
    failed: int


class ExecutedJob(BaseModel):
    id: UUID
    name: str
    function_name: str | None
    next_run: datetime | None
    executed_at: datetime


class FailedJob(BaseModel):
    id: UUID
    name: str
    error: str


class RunSummaryData(BaseModel):
    """The seed's /api/cron/run response data."""

    summary: Counts
    executed: list[ExecutedJob]
    failed: list[FailedJob]


class FunctionPublic(BaseModel):
    name: str
    description: str


class FunctionList(BaseModel):
    functions: list[FunctionPublic]


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schedule: Schedule
    timezone: Zone = "UTC"
    count: int = Field(5, ge=1, le=100)


class PreviewData(BaseModel):
    schedule: str
    timezone: str
    description: str
    next_runs: list[datetime]


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    database: Literal["ok"] = "ok"
    schema_revision: str


class Me(BaseModel):
    """The signed-in caller, as the API sees them."""

    email: str
    role: str = Field(description="user, admin or superadmin")
    tenant_id: UUID | None = Field(description="null for a superadmin")
    tenant_name: str | None
    can_manage_jobs: bool = Field(description="admins and superadmins manage jobs; users do not")


class TenantPublic(BaseModel):
    id: UUID
    name: str


class TenantList(BaseModel):
    tenants: list[TenantPublic]


class WorkerPublic(BaseModel):
    id: str
    host: str
    pid: int
    started_at: datetime
    last_heartbeat: datetime


class WorkerList(BaseModel):
    worker_running: bool = Field(
        description="true when at least one worker heartbeated recently; false means an "
        "API-only deployment, where something must call POST /api/cron/run"
    )
    alive: int = Field(description="how many workers heartbeated recently")
    workers: list[WorkerPublic] | None = Field(
        description="the live workers with their host and pid: for superadmins only, null "
        "for every other role"
    )


class LatestRuns(BaseModel):
    runs: dict[str, RunPublic] = Field(
        description="job id -> its newest run; jobs without runs, unknown or not visible to "
        "the caller are left out"
    )
