"""How a run ended, as the Outcome to record: its status (from the exception, if any), the
error text and, while attempts remain, when to try again.

Pure: the caller gives the times and the jitter, so the same builder serves a run that
returned, raised, timed out or was given up at shutdown, and a run whose worker died.
"""

from __future__ import annotations

import traceback
from datetime import datetime
from types import TracebackType
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


def traceback_text(error: BaseException) -> str | None:
    """The traceback of an exception a job raised, from the job's own code down (the runner's
    frames above it left out), or None. cronbase's own errors have none worth showing (timed
    out, shut down, an unknown function: the message says it all), except an error from a
    child process (isolation "process"), which carries the child's traceback as `traceback`."""
    if isinstance(error, CronbaseError):
        child = getattr(error, "traceback", None)
        return child if isinstance(child, str) else None
    if error.__traceback__ is None:
        return None
    lines = traceback.format_exception(type(error), error, _below_the_runner(error.__traceback__))
    return "".join(lines)


def _below_the_runner(tb: TracebackType | None) -> TracebackType | None:
    # The first frames are the runner's calling the job (pool.py, calling.py, isolation.py):
    # the same in every traceback, and not where the reader should look.
    while tb is not None and tb.tb_next is not None:
        if not tb.tb_frame.f_globals.get("__name__", "").startswith("cronbase.runner."):
            break
        tb = tb.tb_next
    return tb


def build_outcome(
    claim: Claim,
    started: datetime,
    finished: datetime,
    result: dict[str, Any] | None,
    error: BaseException | None,
    jitter: float,
    log: str | None = None,
) -> Outcome:
    """The outcome of `claim`'s run: succeeded with `result` if `error` is None, else the
    status `error` stands for (failed unless it is one of the above), with a retry time while
    attempts remain (see planning.retry_at; `jitter` in [0, 1)) and the traceback of `error`.
    A job that cannot run is not retried: a broken schedule stays broken. A LeaseLapsed
    outcome is marked `lapsed`. `log` is what the run logged (see run_log.py)."""
    if error is None:
        return Outcome(claim, RunStatus.SUCCEEDED, started, finished, result, log=log)
    status = _STATUS_OF.get(type(error), RunStatus.FAILED)
    again = None
    if not isinstance(error, CannotRun):
        again = retry_at(claim.job, claim.attempt, status, finished, jitter)
    text = cut_text(storable_text(error_text(error)))
    lapsed = isinstance(error, LeaseLapsed)
    trace = traceback_text(error)
    if trace is not None:
        trace = cut_text(storable_text(trace))
    return Outcome(
        claim, status, started, finished, None, text, again, lapsed, log=log, traceback=trace
    )
