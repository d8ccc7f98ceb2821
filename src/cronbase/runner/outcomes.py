"""How a run ended, as the Outcome to record: its status (from the exception, if any), the
error text and, while attempts remain, when to try again.

Pure: the caller gives the times and the jitter, so the same builder serves a run that
returned, raised, timed out or was given up at shutdown, and a run whose worker died.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cronbase.errors import CronbaseError
from cronbase.jobs import Claim, Outcome, RunStatus, storable_text
from cronbase.limits import cut_text
from cronbase.runner.planning import retry_at

ABANDONED_ERROR = "its worker stopped renewing the lease: the worker died or lost the database"


class TimedOut(CronbaseError):
    """The run was still going at its deadline."""


class ShutDown(CronbaseError):
    """The worker stopped before the run ended."""


class CannotRun(CronbaseError):
    """The job cannot run at all (for example, its stored schedule is invalid)."""


class LeaseLapsed(CronbaseError):
    """The run's worker stopped renewing its lease: it died, or lost the database."""

    def __init__(self) -> None:
        super().__init__(ABANDONED_ERROR)


_STATUS_OF: dict[type[BaseException], RunStatus] = {
    TimedOut: RunStatus.TIMED_OUT,
    ShutDown: RunStatus.ABANDONED,
    LeaseLapsed: RunStatus.ABANDONED,
}


def error_text(error: BaseException) -> str:
    """A run's error as the history shows it: cronbase's own errors by their message, any
    other as "<ExceptionType>: <message>"."""
    return str(error) if isinstance(error, CronbaseError) else f"{type(error).__name__}: {error}"


def build_outcome(
    claim: Claim,
    started: datetime,
    finished: datetime,
    result: dict[str, Any] | None,
    error: BaseException | None,
    jitter: float,
) -> Outcome:
    """The outcome of `claim`'s run: succeeded with `result` if `error` is None, else the
    status `error` stands for (failed unless it is one of the above), with a retry time while
    attempts remain (see planning.retry_at; `jitter` in [0, 1)). A job that cannot run is not
    retried: a broken schedule stays broken. A LeaseLapsed outcome is marked `lapsed`."""
    if error is None:
        return Outcome(claim, RunStatus.SUCCEEDED, started, finished, result)
    status = _STATUS_OF.get(type(error), RunStatus.FAILED)
    again = None
    if not isinstance(error, CannotRun):
        again = retry_at(claim.job, claim.attempt, status, finished, jitter)
    text = cut_text(storable_text(error_text(error)))
    lapsed = isinstance(error, LeaseLapsed)
    return Outcome(claim, status, started, finished, None, text, again, lapsed)
