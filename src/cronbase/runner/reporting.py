"""What a worker says about the runs it recorded: a log line each (or, with a RunTally, a
summary per interval of the runs that succeeded: tally.py), and the entries of the seed's run
summary."""

from __future__ import annotations

import logging

from cronbase.jobs import Outcome, Recorded, Run, RunStatus, RunSummary, isoformat
from cronbase.runner.tally import RunTally

logger = logging.getLogger(__name__)

_NOT_RECORDED = {
    Recorded.ALREADY_ENDED: (
        logging.WARNING,
        (
            "run of %s ended after another worker recorded it abandoned (its lease had "
            "lapsed); its result is dropped"
        ),
    ),
    Recorded.DELETED: (
        logging.INFO,
        "run of %s ended after the job was deleted; there is no run left to record it in",
    ),
    Recorded.LEASE_RENEWED: (
        logging.DEBUG,
        "run of %s was not recorded abandoned: its worker renewed the lease meanwhile",
    ),
}


def report(
    outcome: Outcome,
    recorded: Recorded,
    summary: RunSummary | None,
    tally: RunTally | None = None,
) -> None:
    """Log how the run ended and add it to `summary` (if any: a worker keeps none), if it was
    recorded; else log why not. With a `tally`, the run is counted there, and only a run that
    did not succeed logs a line of its own."""
    claim, job = outcome.claim, outcome.claim.job
    if recorded is not Recorded.RECORDED:
        level, message = _NOT_RECORDED[recorded]
        logger.log(level, message, job.name, extra={"run_id": str(claim.run_id)})
        return
    if tally is not None:
        tally.add(outcome)
    if outcome.status is RunStatus.SUCCEEDED:
        _succeeded(outcome, summary, tally)
        return
    if summary is not None:
        summary.failed.append({"id": str(job.id), "name": job.name, "error": outcome.error})
    retrying = (
        f"; attempt {claim.attempt} of {job.max_attempts}, next at {isoformat(outcome.retry_at)}"
        if outcome.retry_at
        else ""
    )
    logger.warning(
        "run %s: %s (%s): %s%s",
        outcome.status.value,
        job.name,
        job.function_name,
        outcome.error,
        retrying,
        extra=_extra(outcome),
    )


def _extra(outcome: Outcome) -> dict[str, object]:
    claim = outcome.claim
    return {
        "action": f"run_{outcome.status.value}",
        "job": str(claim.job.id),
        "run_id": str(claim.run_id),
        "attempt": claim.attempt,
    }


def _succeeded(outcome: Outcome, summary: RunSummary | None, tally: RunTally | None) -> None:
    claim, job = outcome.claim, outcome.claim.job
    if summary is not None:
        summary.executed.append(
            {
                "id": str(job.id),
                "name": job.name,
                "function_name": job.function_name,
                "next_run": isoformat(claim.next_run),
                "executed_at": isoformat(outcome.started_at),
            }
        )
    if tally is not None:
        return
    seconds = (outcome.finished_at - outcome.started_at).total_seconds()
    # An on_demand or paused job has no next run: say so rather than "next run None".
    upcoming = f"next run {isoformat(claim.next_run)}" if claim.next_run else "no next run"
    logger.info(
        "run succeeded: %s (%s) in %.3fs, %s",
        job.name,
        job.function_name,
        seconds,
        upcoming,
        extra=_extra(outcome),
    )


def report_abandoned(run: Run) -> None:
    """Log a run another worker's lapsed lease left, now recorded abandoned."""
    logger.warning(
        "run abandoned: job %s, worker %s",
        run.job_id,
        run.worker_id,
        extra={"action": "run_abandoned", "run_id": str(run.id)},
    )
