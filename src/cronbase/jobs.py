"""The domain objects: jobs, runs, and the summary of a round of due jobs."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, make_dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

# The policies are defined with the fields they are choices of, and still importable from here.
from cronbase.job_fields import (  # noqa: F401
    JOB_FIELDS,
    Dependency,
    Isolation,
    MisfirePolicy,
    OverlapPolicy,
)
from cronbase.schedule import jitter_offset, parse_schedule


def isoformat(instant: datetime | None) -> str | None:
    """Render an aware instant the way the seed's API does: 2025-01-15T10:30:00Z."""
    if instant is None:
        return None
    return instant.isoformat().replace("+00:00", "Z")


def utc_instant(value: datetime) -> datetime:
    """An aware `value` in UTC; ValueError if it falls off the calendar there (the year 1 or
    9999 with an offset that carries it across), which no column of the database can hold."""
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError(
            f"{value.isoformat()} is not an instant that can be stored: in UTC it falls "
            "outside the years 1 to 9999"
        ) from exc


def milliseconds_between(start: datetime | None, end: datetime | None) -> int | None:
    """Whole milliseconds from `start` to `end`; None while either is unknown."""
    if start is None or end is None:
        return None
    return int((end - start).total_seconds() * 1000)


def json_problem(value: Any) -> str | None:
    """Why `value` cannot be stored as JSON on both databases, or None if it can.

    PostgreSQL's jsonb refuses NaN, Infinity, the NUL character and unpaired surrogates, which
    Python's json module lets through by default.
    """
    try:
        text = json.dumps(value, allow_nan=False, ensure_ascii=False)
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains an unpaired surrogate character, which cannot be stored"
    except (TypeError, ValueError) as exc:
        return f"is not JSON-serialisable: {exc}"
    except RecursionError:
        return "nests too deeply to be stored: flatten it"
    if "\\u0000" in text:  # json.dumps escapes control characters even with ensure_ascii off
        return "contains the NUL character (\\u0000), which cannot be stored"
    return None


def storable_text(text: str) -> str:
    """`text` without the characters PostgreSQL cannot store (NUL, unpaired surrogates)."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


_NO_OFFSET = timedelta(0)


def job_offset(job: Any) -> timedelta:
    """A Job's jitter offset: each of its slots is due this long after its fire time (none
    while its stored schedule does not parse). See schedule/jitter.py."""
    if not job.jitter_seconds:  # no jitter, no offset: the schedule need not be looked up
        return _NO_OFFSET
    try:
        schedule = parse_schedule(job.schedule, job.timezone)
    except ValueError:
        return timedelta(0)
    return jitter_offset(job.id, job.jitter_seconds, schedule)


class RunStatus(StrEnum):
    PENDING = "pending"  # queued: a retry or a manual run, waiting for run_after
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"  # still going at its deadline; another run took its place
    ABANDONED = "abandoned"  # its worker stopped renewing the lease (it died)
    MISSED = "missed"  # slots that passed while nothing ran them (one row for many)
    SKIPPED = "skipped"  # the slot came due while the job's previous run was still going


# Runs that ended without doing their work: the Web UI marks them as failures, and they are
# tried again while attempts remain.
FAILURE_STATUSES = frozenset({RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.ABANDONED})


class RunTrigger(StrEnum):
    SCHEDULE = "schedule"
    MANUAL = "manual"
    DEPENDENCY = "dependency"  # after final runs of the jobs it depends on
    BACKFILL = "backfill"  # a past slot queued by a backfill


def start_lag(
    scheduled_for: datetime, started_at: datetime, trigger: RunTrigger, offset: timedelta
) -> timedelta:
    """How late a run started: the one definition (charts, overview, metrics).

    A run of the job's schedule was due at its slot plus the job's jitter offset (job_offset),
    as next_run is: a staggered job that starts on time has no lag. The offset moves the
    schedule's slots only; any other run is counted from its scheduled_for (a manual run from
    when it was asked for). A retry's lag includes its backoff.
    """
    due = scheduled_for + offset if trigger == RunTrigger.SCHEDULE else scheduled_for
    return started_at - due


def _to_dict(job: Any) -> dict[str, Any]:
    """The seed's job object, plus timezone, the timestamps and the execution settings."""
    return {f.name: _json_value(getattr(job, f.name)) for f in JOB_FIELDS}


def _json_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    if isinstance(value, Dependency):
        return value.to_dict()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return isoformat(value)
    return value


# A row of cron_job: every field of JOB_FIELDS, in its order.
Job = make_dataclass(
    "Job",
    [f.dataclass_field(f.stored_type) for f in JOB_FIELDS],
    frozen=True,
    kw_only=True,
    namespace={"to_dict": _to_dict, "__doc__": "A row of cron_job (see cronbase.job_fields)."},
)
Job.__module__ = __name__

# Building a Job through its __init__ costs about 34 us on the benchmark machine: a frozen
# dataclass sets each of its ~30 fields through object.__setattr__. The claims build hundreds a
# batch and list pages a hundred a request, so a Job read from the database is made by filling
# its __dict__ at once (under 1 us). Nothing is lost: __init__ checks nothing, and the object
# is the same frozen, comparable Job.
_JOB_FIELD_COUNT = len(JOB_FIELDS)
_NOT_STORED = tuple(f for f in JOB_FIELDS if not f.column)  # given their default when left out
_new_object = object.__new__


def stored_job(values: dict[str, Any]) -> Job:
    """The Job of a row of cron_job: `values` holds every column by name (it becomes the job's
    own __dict__, so pass a dict nobody else keeps); the fields that are not columns
    (depends_on) take their default unless given."""
    job = _new_object(Job)
    if len(values) != _JOB_FIELD_COUNT:
        for f in _NOT_STORED:
            if f.name not in values:
                values[f.name] = f.default_value()
        if len(values) != _JOB_FIELD_COUNT:
            missing = sorted(set(Job.__dataclass_fields__) - set(values))
            extra = sorted(set(values) - set(Job.__dataclass_fields__))
            raise TypeError(f"a Job needs every field: missing {missing}, unknown {extra}")
    object.__setattr__(job, "__dict__", values)
    return job


def job_with(job: Job, **changes: Any) -> Job:
    """`dataclasses.replace(job, **changes)` without going through Job's __init__."""
    unknown = changes.keys() - Job.__dataclass_fields__.keys()
    if unknown:
        raise TypeError(f"a Job has no field {sorted(unknown)}")
    return stored_job({**vars(job), **changes})


# A job as a list sorted by last run read it: `listed_last_run` is the value the list was
# ordered by, its copy of last_run (store/search.py, which may lag last_run by a few seconds),
# so that the page's cursor goes on in that order. The API shows the job's own fields.
ListedJob = make_dataclass(
    "ListedJob",
    [("listed_last_run", datetime | None, field(default=None, compare=False))],
    bases=(Job,),
    frozen=True,
    kw_only=True,
)
ListedJob.__module__ = __name__


def listed_job(job: Job, listed_last_run: datetime | None) -> Job:
    """`job` as a ListedJob (made as stored_job makes a Job: by filling its __dict__)."""
    made = _new_object(ListedJob)
    object.__setattr__(made, "__dict__", {**vars(job), "listed_last_run": listed_last_run})
    return made


@dataclass(frozen=True)
class Run:
    """A row of cron_job_run: one execution of a job."""

    id: UUID
    job_id: UUID
    tenant_id: UUID | None
    scheduled_for: datetime
    started_at: datetime | None
    finished_at: datetime | None
    status: RunStatus
    result: dict[str, Any] | None
    error: str | None
    attempt: int
    worker_id: str | None
    trigger: RunTrigger
    lease_until: datetime | None = None
    run_after: datetime | None = None
    # What makes a run off the schedule exactly once (see store/tables.py), and the upstream
    # run ids that started a dependency run.
    trigger_key: str | None = None
    triggered_by: list[str] | None = None
    # What the run logged and, if it failed, its traceback (each capped, see limits.py). Read
    # for one run only: a listing of runs leaves them None.
    log: str | None = None
    traceback: str | None = None

    @property
    def duration_ms(self) -> int | None:
        """How long it ran, once it has ended."""
        return milliseconds_between(self.started_at, self.finished_at)

    def to_dict(self) -> dict[str, Any]:
        """The run as the API shows it (the lease is the workers' business)."""
        values = {name: _json_value(value) for name, value in vars(self).items()}
        del values["lease_until"]
        return {**values, "duration_ms": self.duration_ms}


@dataclass(frozen=True)
class Claim:
    """A due job this worker has claimed: its run row exists and its next_run has moved on."""

    run_id: UUID
    job: Job  # as it was when claimed
    slot: datetime  # the fire time this run stands for
    next_run: datetime | None
    error: str | None = None  # set when the job cannot run at all (bad schedule)
    attempt: int = 1
    trigger: RunTrigger = RunTrigger.SCHEDULE
    trigger_key: str | None = None  # carried to the retries of a run off the schedule
    triggered_by: tuple[str, ...] = ()  # the upstream run ids that started it


@dataclass(frozen=True)
class Outcome:
    """How a claimed run ended, as the worker will record it."""

    claim: Claim
    status: RunStatus
    started_at: datetime
    finished_at: datetime
    result: dict[str, Any] | None = None
    error: str | None = None
    retry_at: datetime | None = None  # attempts remain: the next one may start then
    # Built by another worker for a run whose lease lapsed: recorded only if the lease is
    # still lapsed then (its owner may have renewed it meanwhile).
    lapsed: bool = False
    # What the run logged through ctx.logger, and the traceback of the exception it raised
    # (both cut to MAX_RUN_TEXT_BYTES; None if there was none). A notification quotes their
    # end with limits.last_lines.
    log: str | None = None
    traceback: str | None = None


class Recorded(StrEnum):
    """What recording an outcome did."""

    RECORDED = "recorded"
    ALREADY_ENDED = "already_ended"  # another worker recorded it abandoned: its lease lapsed
    DELETED = "deleted"  # the job, and its runs with it, was deleted while the run went on
    LEASE_RENEWED = "lease_renewed"  # a lapsed outcome whose run's owner renewed the lease


@dataclass(frozen=True)
class Missed:
    """Slots that will not run, recorded compactly as one history row."""

    first: datetime
    last: datetime
    count: int
    more: bool  # there were more than `count` (counting stopped)


@dataclass(frozen=True)
class SlotPlan:
    """For a due job: the slot to run now (if any), the slots missed, and the next_run after."""

    run_slot: datetime | None
    missed: Missed | None
    next_run: datetime | None
    error: str | None = None  # the job cannot be planned (its stored schedule is broken)


@dataclass
class RunSummary:
    """The seed's /api/cron/run response data: counts plus the executed and failed lists."""

    executed: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    skipped_jobs: set[UUID] = field(default_factory=set)  # due, but run by another process
    tenants: dict[UUID, UUID | None] = field(default_factory=dict)  # job id -> tenant id

    @property
    def skipped(self) -> int:
        return len(self.skipped_jobs)

    @property
    def total(self) -> int:
        return len(self.executed) + len(self.failed) + self.skipped

    def visible_to(self, can_see: Callable[[UUID | None], bool]) -> RunSummary:
        """The part of the summary about jobs whose tenant passes `can_see`."""

        def visible(job_id: UUID) -> bool:
            return can_see(self.tenants.get(job_id))

        return RunSummary(
            executed=[item for item in self.executed if visible(UUID(item["id"]))],
            failed=[item for item in self.failed if visible(UUID(item["id"]))],
            skipped_jobs={job_id for job_id in self.skipped_jobs if visible(job_id)},
            tenants=self.tenants,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": {
                "total": self.total,
                "executed": len(self.executed),
                "skipped": self.skipped,
                "failed": len(self.failed),
            },
            "executed": self.executed,
            "failed": self.failed,
        }
