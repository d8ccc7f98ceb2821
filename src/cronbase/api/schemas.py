"""Request and response bodies. Responses use the seed's envelope: {"status", "data"}."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationInfo,
    create_model,
    field_validator,
)
from pydantic_core import PydanticCustomError

from cronbase.explain import JobState
from cronbase.job_fields import FIELDS, JOB_FIELDS, SETTABLE_FIELDS, JobField

T = TypeVar("T")

# Lengths are capped here so huge strings stop at the door; the manager checks the content.
Schedule = Annotated[str, StringConstraints(max_length=FIELDS["schedule"].max_length)]
Zone = Annotated[str, StringConstraints(max_length=FIELDS["timezone"].max_length)]


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


def _create_field(job_field: JobField) -> tuple[Any, Any]:
    """A JobCreate field: its type (a policy is one of its choices), capped length, default."""
    annotation = job_field.choices or job_field.type
    if job_field.type in (int, bool):
        # Strict, so "1_000" or 1.5 is no priority and "yes" no is_active; per field, since a
        # model-wide strict mode would refuse the UUIDs clients send as strings.
        annotation = Annotated[annotation, Strict()]
    if job_field.client_nullable:
        annotation = annotation | None
    if job_field.max_length is not None:
        annotation = Annotated[annotation, StringConstraints(max_length=job_field.max_length)]
    if job_field.required:
        default = Field(examples=job_field.examples, description=job_field.description)
    elif callable(job_field.default):
        default = Field(default_factory=job_field.default, description=job_field.description)
    else:
        default = Field(
            job_field.choices(job_field.default) if job_field.choices else job_field.default,
            description=job_field.description,
            examples=job_field.examples,
        )
    return annotation, default


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


JobCreate = create_model(
    "JobCreate",
    __base__=_Input,
    __module__=__name__,
    __doc__="The seed's POST body, plus `timezone`.",
    **{f.name: _create_field(f) for f in SETTABLE_FIELDS},
)


class _Changes(_Input):
    @field_validator("*")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        # Leaving a field out keeps it; null would erase it. Only a field that means something
        # when null may be null (a global job's tenant_id, no timeout, no catch-up window).
        # Refused here, at the field, so the error names it (a model validator's names "body").
        if value is None and not FIELDS[str(info.field_name)].client_nullable:
            raise PydanticCustomError(
                "null_not_allowed", "cannot be null; leave the field out to keep it"
            )
        return value


def _optional(job_field: JobField) -> tuple[Any, Any]:
    annotation, _default = _create_field(job_field)
    return annotation | None, None


JobUpdate = create_model(
    "JobUpdate",
    __base__=_Changes,
    __module__=__name__,
    __doc__="Any of the job's fields; those left out keep their values.",
    **{f.name: _optional(f) for f in SETTABLE_FIELDS},
)

JobPublic = create_model(
    "JobPublic",
    __module__=__name__,
    __doc__="The seed's job object, plus tenant, time zone and timestamps.",
    **{f.name: (f.stored_type, ...) for f in JOB_FIELDS},
)


class Page(BaseModel):
    limit: int
    offset: int
    next_offset: int | None = Field(description="offset of the next page; null on the last")
    next_cursor: str | None = Field(
        description="send as `cursor` (with the same sort) for the next page; null on the last"
    )


class JobList(BaseModel):
    jobs: list[JobPublic]
    pagination: Page


class JobData(BaseModel):
    job: JobPublic


class LinkedJob(BaseModel):
    id: UUID
    name: str
    schedule: str
    wait_for: str
    depth: int = Field(description="1 for a direct upstream or dependent, 2 for theirs, ...")
    on: str = Field(description="the condition of the edge that reaches it: success, ...")


class DependencyData(BaseModel):
    job: JobPublic
    upstream: list[LinkedJob] = Field(description="what the job runs after, transitively")
    downstream: list[LinkedJob] = Field(description="what runs after the job, transitively")


class ExplanationPublic(BaseModel):
    """Why a job runs or does not: the fields are cronbase.explain's Explanation.to_dict."""

    model_config = ConfigDict(extra="allow")
    state: JobState = Field(description="one word for where the job stands (see the README)")
    summary: str = Field(description="the state in a sentence, with what to do about it")


class ExplainData(BaseModel):
    explanation: ExplanationPublic


class Deleted(BaseModel):
    id: UUID
    deleted: Literal[True] = True


class UpstreamRun(BaseModel):
    run_id: UUID
    job_id: UUID
    job_name: str


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
    trigger_key: str | None = Field(
        None,
        description="what makes a run off the schedule exactly once: the upstream run's id, "
        "all:<scheduled time> for a join, backfill:<scheduled time>",
    )
    triggered_by: list[str] | None = Field(
        None, description="the upstream run(s) that started this run (trigger dependency)"
    )
    upstream: list[UpstreamRun] = Field(
        default_factory=list,
        description="the runs of triggered_by that still exist, with their job (in run lists)",
    )


class RunData(BaseModel):
    run: RunPublic


class RunDetail(RunPublic):
    log: str | None = Field(
        description="what the run logged through ctx.logger, one line per record (UTC time, "
        "level, message), up to 64 KiB: its start and end, with a marker where it was cut; "
        "null if it logged nothing"
    )
    traceback: str | None = Field(
        description="the traceback of the exception the job raised (up to 64 KiB, cut the "
        "same way); null if it did not raise, or the run ended otherwise (timed out, ...)"
    )


class RunDetailData(BaseModel):
    run: RunDetail


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


class OptionPublic(BaseModel):
    """An option the function reads from a job's metadata (bounds that do not apply are null)."""

    name: str
    type: str = Field(description="number, integer, string, boolean or json")
    default: Any
    description: str
    minimum: int | float | None = None
    exclusive_minimum: int | float | None = None
    maximum: int | float | None = None
    exclusive_maximum: int | float | None = None
    choices: list[Any] | None = Field(None, description="the values allowed, if a list")


class FunctionPublic(BaseModel):
    name: str
    description: str
    options: list[OptionPublic] = Field(
        default_factory=list, description="checked when a job is created or changed"
    )


class FunctionList(BaseModel):
    functions: list[FunctionPublic]


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schedule: Schedule
    timezone: Zone = "UTC"
    count: int = Field(5, ge=1, le=100)
    job_id: UUID | None = Field(
        None, description="an existing job: its jitter offset (from its id) is added"
    )
    jitter_seconds: int | None = Field(
        None, ge=0, le=3600, description="with job_id: the jitter to preview (default the job's)"
    )


class PreviewData(BaseModel):
    schedule: str
    timezone: str
    description: str
    next_runs: list[datetime] = Field(description="the times it runs: fire time plus offset")
    offset_seconds: int = Field(description="the job's jitter offset; 0 without job_id")


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


class RunTimingPublic(BaseModel):
    """A run as the Web UI's pictures draw it (no result or error: see the run history)."""

    id: UUID
    job_id: UUID
    status: str
    scheduled_for: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None = Field(description="finished_at - started_at; null until it ends")
    start_lag_ms: int | None = Field(
        description="started_at - scheduled_for: how late it started; null if it never did"
    )
    attempt: int
    trigger: str


class RecentRuns(BaseModel):
    runs: dict[str, list[RunTimingPublic]] = Field(
        description="job id -> its newest runs (not pending ones), oldest first; jobs without "
        "runs, unknown or not visible to the caller are left out"
    )


class MinuteActivityPublic(BaseModel):
    minute: datetime = Field(description="the minute's first instant")
    runs: int = Field(description="runs that started in this minute")
    failures: int = Field(description="of those, how many failed, timed out or were abandoned")
    mean_lag_ms: int | None = Field(description="their mean start lag; null without runs")
    max_lag_ms: int | None = Field(description="their greatest start lag; null without runs")


class ActivityData(BaseModel):
    minutes: list[MinuteActivityPublic] = Field(
        description="the last 60 minutes, oldest first; the current minute, still going, last"
    )
