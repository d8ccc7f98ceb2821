"""The whole exception tree. Every error cronbase raises on purpose derives from CronbaseError."""

from __future__ import annotations


class CronbaseError(Exception):
    """Base class for every error cronbase raises on purpose."""


class CannotListen(CronbaseError):
    """The server cannot listen on its address; the message says why and how to pick another."""


class InvalidSchedule(CronbaseError, ValueError):
    """A schedule or time zone that cannot be used; the message says what is wrong and what is allowed."""

    def __init__(self, expression: str, reason: str) -> None:
        self.expression = expression
        self.reason = reason
        super().__init__(f"invalid schedule {expression!r}: {reason}")


class InvalidTimezone(InvalidSchedule):
    """A time zone that is not an IANA name; the message suggests one."""

    def __init__(self, zone: str, reason: str) -> None:
        self.expression = zone
        self.reason = reason
        Exception.__init__(self, reason)  # the reason names the zone already


class InvalidFields(CronbaseError, ValueError):
    """Something a client sent that cannot be stored; `errors` lists (field, message) pairs
    to fix, and `what` names the thing ("job")."""

    what = "input"

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors))


class InvalidQuery(CronbaseError, ValueError):
    """A list's query that cannot be answered (a bad sort, a malformed cursor, a cursor beside
    an offset); `errors` lists (parameter, message) pairs to fix."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors))


class InvalidJob(InvalidFields):
    """A job definition that cannot be stored."""

    what = "job"


class InvalidBackfill(InvalidJob):
    """A backfill's range that cannot be queued (an InvalidJob as before, named for what it is)."""

    what = "backfill"


class InvalidChannel(InvalidFields):
    """A notification channel that cannot be stored."""

    what = "channel"


class NotFound(CronbaseError, LookupError):
    """No such thing with this id exists (or the caller may not see it)."""

    what = "thing"

    def __init__(self, object_id: object) -> None:
        self.object_id = object_id
        super().__init__(f"no {self.what} with id {object_id}")


class JobNotFound(NotFound):
    what = "cron job"


class ChannelNotFound(NotFound):
    what = "notification channel"


class RunNotFound(NotFound):
    """The job has no run with this id (the run belongs to another job, or never existed)."""

    def __init__(self, job_id: object, run_id: object) -> None:
        self.job_id = job_id
        self.run_id = run_id
        self.object_id = run_id
        Exception.__init__(self, f"cron job {job_id} has no run with id {run_id}")


class BackfillNotFound(JobNotFound):
    """The job has no backfill with this id."""

    def __init__(self, backfill_id: object) -> None:
        self.job_id = backfill_id
        LookupError.__init__(self, f"no backfill with id {backfill_id} of this job")


class DuplicateJob(CronbaseError):
    """A job function with this name is already registered; pick another name."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"a job function named {name!r} is already registered")


class UnknownJobFunction(CronbaseError, LookupError):
    """No job function is registered under this name; register it or load its module."""

    def __init__(self, name: str | None, known: list[str] | None = None) -> None:
        self.name = name
        hint = f"; registered functions: {', '.join(sorted(known))}" if known else ""
        super().__init__(
            f"no job function is registered as {name!r}{hint} "
            "(load your own with CRONBASE_JOB_MODULES=package.module)"
        )


class StoreError(CronbaseError):
    """The database failed; always raised `from` the driver's error."""


class ConcurrentChange(StoreError):
    """The database refused a write that validation allowed, because something changed
    meanwhile (a tenant or job was deleted); retrying may succeed."""


class ValueRefused(StoreError):
    """The database refused a value that validation let through (a bug to fix there)."""


class QuotaExceeded(CronbaseError):
    """A tenant holds as many jobs as it may (CRONBASE_MAX_JOBS_PER_TENANT)."""

    def __init__(self, tenant_id: object, count: int, limit: int) -> None:
        super().__init__(
            f"tenant {tenant_id} has {count} jobs, the most it may have "
            f"(CRONBASE_MAX_JOBS_PER_TENANT={limit}); delete jobs it no longer needs, or ask "
            "the operator to raise the limit"
        )


class DependencyConflict(CronbaseError):
    """A change or delete of a job that the jobs depending on it forbid; the message names them
    and says what to do first."""


class SchemaOutOfDate(CronbaseError):
    """The database schema is older than this cronbase; run `cronbase migrate`."""


class ConfigurationError(CronbaseError):
    """A setting is missing or invalid; the message names the environment variable."""
