"""One round of due jobs: claim them, run each registered function, record how it ended."""

from __future__ import annotations

import json
import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from cronbase.clock import Clock
from cronbase.errors import CronbaseError
from cronbase.jobs import Claim, Job, RunStatus, RunSummary, isoformat
from cronbase.registry import JobContext, JobRegistry
from cronbase.schedule import parse_schedule
from cronbase.store import SqlStore

logger = logging.getLogger(__name__)


def default_worker_id() -> str:
    """host:pid:random, unique per process and readable in the run history."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def plan_next_run(job: Job, now: datetime) -> tuple[datetime | None, str | None]:
    """The job's next fire time strictly after `now`, or (None, why) if its schedule is broken.

    Fire times between the slot being run and `now` are skipped: missed slots coalesce into
    the one run, as in the seed.
    """
    try:
        return parse_schedule(job.schedule, job.timezone).next_after(now), None
    except ValueError as exc:  # InvalidSchedule, or a zone that vanished from tzdata
        return None, f"{exc}; the job will not run again until its schedule is fixed"


class Runner:
    """Runs due jobs against a store. Safe to use from many processes at once."""

    def __init__(
        self,
        store: SqlStore,
        registry: JobRegistry,
        clock: Clock,
        *,
        worker_id: str | None = None,
        claim_batch: int = 20,
    ) -> None:
        self.store = store
        self.registry = registry
        self.clock = clock
        self.worker_id = worker_id or default_worker_id()
        self.claim_batch = claim_batch

    def run_due(
        self, now: datetime | None = None, *, should_stop: Callable[[], bool] = lambda: False
    ) -> RunSummary:
        """Execute every active job whose next_run <= now (default: the clock's now).

        Each due (job, slot) runs exactly once across all processes; a due job that another
        process claimed is counted as skipped. If `should_stop` turns true, claimed jobs that
        have not started are handed back, and the round ends.
        """
        now = now or self.clock.now()
        seen = self.store.due_jobs(now)
        summary, done = RunSummary(tenants=seen), set()
        while not should_stop():
            claims = self.store.claim_due(now, self.worker_id, plan_next_run, self.claim_batch)
            if not claims:
                break
            for index, claim in enumerate(claims):
                if should_stop():
                    for unstarted in claims[index:]:
                        self.store.release_claim(unstarted)
                    break
                self._execute(claim, summary)
                done.add(claim.job.id)
                seen[claim.job.id] = claim.job.tenant_id  # it may have come due after `seen`
        summary.skipped_jobs = set(seen) - done
        return summary

    def _execute(self, claim: Claim, summary: RunSummary) -> None:
        job, started = claim.job, self.clock.now()
        try:
            if claim.error:
                raise _CannotRun(claim.error)
            result = self._call(claim, started)
        except Exception as exc:  # noqa: BLE001 - a job's own exception is data: a failed run
            error = str(exc) if isinstance(exc, CronbaseError) else f"{type(exc).__name__}: {exc}"
            self.store.finish_run(
                claim,
                status=RunStatus.FAILED,
                started_at=started,
                finished_at=self.clock.now(),
                error=error,
            )
            summary.failed.append({"id": str(job.id), "name": job.name, "error": error})
            logger.warning(
                "run failed: %s (%s): %s",
                job.name,
                job.function_name,
                error,
                extra={"action": "run_failed", "job": str(job.id), "run_id": str(claim.run_id)},
            )
            return
        finished = self.clock.now()
        self.store.finish_run(
            claim,
            status=RunStatus.SUCCEEDED,
            started_at=started,
            finished_at=finished,
            result=result,
        )
        summary.executed.append(
            {
                "id": str(job.id),
                "name": job.name,
                "function_name": job.function_name,
                "next_run": isoformat(claim.next_run),
                "executed_at": isoformat(started),
            }
        )
        logger.info(
            "run succeeded: %s (%s) in %.3fs, next run %s",
            job.name,
            job.function_name,
            (finished - started).total_seconds(),
            isoformat(claim.next_run),
            extra={"action": "run_succeeded", "job": str(job.id), "run_id": str(claim.run_id)},
        )

    def _call(self, claim: Claim, started: datetime) -> dict[str, Any]:
        """Call the job's function in its own transaction: committed on return, else rolled back."""
        function = self.registry.get(claim.job.function_name)
        job = claim.job
        with self.store.connection() as conn:
            context = JobContext(
                connection=conn,
                job_id=job.id,
                tenant_id=job.tenant_id,
                metadata=dict(job.metadata) if isinstance(job.metadata, dict) else {},
                scheduled_for=job.next_run or started,
                now=started,
                logger=logging.getLogger(f"cronbase.job.{job.function_name}"),
            )
            result = _checked_result(function.func(context), job.function_name)
            conn.commit()
        return result


class _CannotRun(CronbaseError):
    """The job cannot run at all (for example, its stored schedule is invalid)."""


def _checked_result(result: Any, function_name: str | None) -> dict[str, Any]:
    if result is None:
        return {}
    if not isinstance(result, dict):
        raise TypeError(
            f"job function {function_name!r} returned {type(result).__name__}; "
            "return a JSON-serialisable dict (or None)"
        )
    try:
        json.dumps(result)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"job function {function_name!r} returned a dict that is not JSON-serialisable: {exc}"
        ) from exc
    return result
