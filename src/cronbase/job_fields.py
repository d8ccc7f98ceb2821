"""A job's fields, defined once: type, default, bounds or choices, description, who sets them.

Everything else is derived from JOB_FIELDS: the Job and JobSpec dataclasses, the API's
JobCreate/JobUpdate/JobPublic models, the options of `cronbase jobs add`, and the range and
choice checks of job_validation. The table (store/tables.py cron_job) is written out in SQL
terms and a unit test holds it to this list. The order is the seed's job object's order (and
the table's): it is the order of the keys in every JSON job.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID


class MisfirePolicy(StrEnum):
    COALESCE = "coalesce"
    CATCH_UP = "catch_up"
    SKIP = "skip"


class OverlapPolicy(StrEnum):
    SKIP = "skip"
    ALLOW = "allow"
    QUEUE = "queue"


class Isolation(StrEnum):
    THREAD = "thread"
    PROCESS = "process"


class DependsOn(StrEnum):
    """Which final runs of an upstream job start its dependent."""

    SUCCESS = "success"  # a final succeeded
    FAILURE = "failure"  # a final failed, timed_out or abandoned
    COMPLETION = "completion"  # either


class WaitFor(StrEnum):
    """How a job with several upstreams waits: for any one of them, or for all of one slot."""

    ANY = "any"
    ALL = "all"


@dataclass(frozen=True)
class Dependency:
    """One edge of the dependency graph: run this job after a final run of `job_id` that
    matches `on`. Stored in cron_job_dependency, not in a column of cron_job."""

    # Unknown keys are refused, as everywhere in a job's body (the API reads this with pydantic).
    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012

    job_id: UUID
    on: DependsOn = DependsOn.SUCCESS

    def to_dict(self) -> dict[str, str]:
        return {"job_id": str(self.job_id), "on": self.on.value}


class _Required:
    """The default of a field a client must give (a Job read from the database has them all)."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


@dataclass(frozen=True)
class JobField:
    name: str
    type: Any  # as stored and read back (a policy is its text), None aside
    default: Any = REQUIRED  # a mutable default is given as a factory: `dict`
    settable: bool = True  # clients may set it; else the server does (id, next_run, ...)
    # A stored job may hold None: a meaning of its own (global, no limit), "not yet", or (for
    # function_name, nullable in the seed's table) a function lost. Clients may send None only
    # for a field they may also leave out.
    nullable: bool = False
    description: str | None = None  # for the API's schema
    examples: list[Any] | None = None
    max_length: int | None = None  # stops huge strings at the API's door
    choices: type[StrEnum] | None = None
    bounds: tuple[int, int] | None = None  # inclusive, for whole numbers
    invalid: str | None = None  # the message for a value outside `bounds`
    cli_help: str | None = None  # the help of the `jobs add` option
    column: bool = True  # a column of cron_job (depends_on lives in a table of its own)

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    @property
    def client_nullable(self) -> bool:
        return self.nullable and not self.required

    @property
    def stored_type(self) -> Any:
        return self.type | None if self.nullable else self.type

    @property
    def client_type(self) -> Any:
        return self.type | None if self.client_nullable else self.type

    def default_value(self) -> Any:
        return self.default() if callable(self.default) else self.default

    def dataclass_field(self, type_: Any) -> tuple[str, Any, Any]:
        """The (name, type, field) triple for dataclasses.make_dataclass."""
        if self.required:
            return (self.name, type_, dataclasses.field())
        if callable(self.default):
            return (self.name, type_, dataclasses.field(default_factory=self.default))
        return (self.name, type_, dataclasses.field(default=self.default))


def _server(name: str, type_: Any, *, nullable: bool = False) -> JobField:
    """A field only the server sets; always present on a Job read from the database."""
    return JobField(name, type_, settable=False, nullable=nullable)


def _seconds(name: str, low: int, high: int, **details: Any) -> JobField:
    return JobField(name, int, bounds=(low, high), **details)


MAX_NAME_LENGTH = 200
MAX_ATTEMPTS = 20
# Keeping the newest N runs costs the pruner a walk of N index entries per job it looks at.
MAX_KEEP_RUNS = 100_000

JOB_FIELDS: tuple[JobField, ...] = (
    _server("id", UUID),
    JobField(
        "tenant_id",
        UUID,
        None,
        nullable=True,
        description="omit (or null) for a global job",
        cli_help="omit for a global job",
    ),
    JobField("name", str, max_length=MAX_NAME_LENGTH),
    JobField(
        "schedule",
        str,
        max_length=1000,
        examples=["every_5_minutes", "hourly", "cron:0 2 * * *"],
        cli_help="e.g. hourly, every_5_minutes, 'cron:0 2 * * *'",
    ),
    JobField(
        "function_name",
        str,
        nullable=True,
        max_length=200,
        examples=["markUsersOffline"],
        cli_help="a registered function name",
    ),
    JobField("is_active", bool, True, cli_help="create it paused"),
    _server("last_run", datetime, nullable=True),
    _server("next_run", datetime, nullable=True),
    JobField("metadata", dict[str, Any], dict, cli_help="a JSON object"),
    JobField(
        "timezone",
        str,
        "UTC",
        max_length=100,
        description="IANA time zone the schedule is read in",
        cli_help="IANA zone, e.g. Europe/Berlin",
    ),
    _server("created_at", datetime),
    _server("updated_at", datetime),
    JobField(
        "priority",
        int,
        0,
        bounds=(-1000, 1000),
        invalid="must be an integer from -1000 to 1000 (higher runs first)",
        description="-1000 to 1000; when slots are short, higher runs first",
        cli_help="higher runs first (-1000..1000)",
    ),
    _seconds(
        "timeout_seconds",
        1,
        7 * 86400,
        default=None,
        nullable=True,
        invalid="must be a whole number of seconds from 1 to 604800, or null for no limit",
        description="a longer run is recorded timed_out",
        cli_help="record a longer run as timed_out",
    ),
    JobField(
        "misfire_policy",
        str,
        MisfirePolicy.COALESCE.value,
        choices=MisfirePolicy,
        description="slots missed while nothing ran: one run for all "
        "(coalesce), each in turn (catch_up), or none (skip)",
    ),
    _seconds(
        "catchup_window_seconds",
        1,
        366 * 86400,
        default=None,
        nullable=True,
        invalid="must be a whole number of seconds from 1 to 31622400, or null for no limit",
        description="catch_up: older slots are missed; skip: a slot this late still runs",
    ),
    JobField(
        "overlap_policy",
        str,
        OverlapPolicy.SKIP.value,
        choices=OverlapPolicy,
        description="a slot due while the previous run goes on: record it "
        "skipped, run it anyway (allow), or run it when the previous one ends (queue)",
    ),
    JobField(
        "max_attempts",
        int,
        1,
        bounds=(1, MAX_ATTEMPTS),
        invalid=f"must be a whole number from 1 (no retries) to {MAX_ATTEMPTS}",
        description="1 to 20; a failed run is retried until this many",
        cli_help="retry a failed run until this many (1..20)",
    ),
    _seconds(
        "retry_delay_seconds",
        1,
        86400,
        default=30,
        invalid="must be a whole number of seconds from 1 to 86400 "
        "(the delay before the first retry)",
        description="wait before the first retry; doubled at each further attempt, with jitter",
        cli_help="before the first retry; then doubled",
    ),
    JobField(
        "isolation",
        str,
        Isolation.THREAD.value,
        choices=Isolation,
        description="run in a thread of the worker (thread) or in a child process that is "
        "killed at the deadline (process)",
        cli_help="process: a child process, killed at the deadline",
    ),
    # The dead-man's switch (cronbase.overdue): longer than the seed's 5-minute heartbeat.
    _seconds(
        "overdue_after_seconds",
        60,
        366 * 86400,
        default=600,
        invalid="must be a whole number of seconds from 60 to 31622400 (how late a run may "
        "start before the job counts as overdue)",
        description="the job is overdue (and alerts) when its next_run is this far in the past "
        "with no run of it going or waiting",
        cli_help="alert when a run is this late (60..31622400)",
    ),
    # Kept by the store where runs start and end, beside last_run, so lists can show, filter
    # and sort on the last run that ran without reading the history.
    JobField(
        "last_status",
        str,
        None,
        settable=False,
        nullable=True,
        description="the status of the last run that ran, whatever started it (the run "
        "last_run is the start of): running, succeeded, failed, timed_out or abandoned; "
        "null until a run ran",
    ),
    JobField(
        "missed_since_last_run",
        int,
        0,
        settable=False,
        description="slots that passed without a run (recorded missed) since last_run",
    ),
    JobField(
        "depends_on",
        list[Dependency],
        list,
        column=False,
        description="run after final runs of these jobs (same tenant): each "
        '{"job_id": ..., "on": "success" | "failure" | "completion"}, on defaulting to success',
        cli_help="ID or ID:success|failure|completion; repeat for several",
    ),
    JobField(
        "wait_for",
        str,
        WaitFor.ANY.value,
        choices=WaitFor,
        description="with several depends_on: run after each of them (any), or once per "
        "scheduled time when all of them ran for it (all; they must share one schedule and zone)",
        cli_help="any: after each upstream; all: once all ran for the same scheduled time",
    ),
    JobField(
        "keep_runs",
        int,
        None,
        nullable=True,
        bounds=(1, MAX_KEEP_RUNS),
        invalid=f"must be a whole number from 1 to {MAX_KEEP_RUNS}, or null to let "
        "the run-history retention alone decide",
        description="the newest this many rows of the job's history are kept whatever their "
        "age (CRONBASE_RUN_RETENTION_DAYS); null: the age alone decides",
        cli_help="keep the newest N runs whatever their age",
    ),
    JobField(
        "muted_until",
        datetime,
        None,
        nullable=True,
        description="no alert about this job is sent before this instant (with its offset, "
        "e.g. 2026-12-01T08:00:00Z); null: not muted",
        cli_help="send no alert about it before this instant, e.g. 2026-12-01T08:00:00Z",
    ),
    # Set by the server when an alert about the job is raised (a final run failed, timed out
    # or was abandoned, slots were missed, it was overdue); cleared, with job.recovered, by
    # its next successful final run.
    JobField("alerting_since", datetime, None, settable=False, nullable=True),
    _seconds(
        "jitter_seconds",
        0,
        3600,
        default=0,
        invalid="must be a whole number of seconds from 0 (no jitter) to 3600",
        description="run each slot a fixed offset in [0, jitter_seconds) after its fire time, "
        "derived from the job's id and kept below the schedule's shortest gap, so that many "
        "jobs with one schedule do not all start at once; scheduled_for stays the fire time",
        cli_help="spread: a fixed offset below this many seconds (0..3600)",
    ),
)

FIELDS: dict[str, JobField] = {f.name: f for f in JOB_FIELDS}

# The fields that are columns of cron_job, in the table's order.
COLUMN_FIELDS: tuple[JobField, ...] = tuple(f for f in JOB_FIELDS if f.column)

# What a client gives to create or change a job.
SETTABLE_FIELDS: tuple[JobField, ...] = tuple(f for f in JOB_FIELDS if f.settable)


def _spec_fields() -> list[tuple[str, Any, Any]]:
    return [f.dataclass_field(f.client_type) for f in SETTABLE_FIELDS]


# What a client gives to create a job (the seed's POST body, plus timezone and the policies).
JobSpec = dataclasses.make_dataclass("JobSpec", _spec_fields(), frozen=True, kw_only=True)
JobSpec.__module__ = __name__
