"""One round of due jobs: claim them, run each registered function, record how it ended."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from cronbase.clock import Clock
from cronbase.errors import CronbaseError
from cronbase.jobs import Claim, RunStatus, RunSummary, isoformat, json_problem, storable_text
from cronbase.registry import JobContext, JobRegistry
from cronbase.runner.planning import plan_slots
from cronbase.runner.pool import JobThreads, Slot
from cronbase.store import SqlStore
from cronbase.store.sql import DEFAULT_LEASE

logger = logging.getLogger(__name__)


def default_worker_id() -> str:
    """host:pid:random, unique per process and readable in the run history."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Runner:
    """Runs due jobs against a store, `concurrency` at a time. Safe from many processes at once.

    `step(now)` does one turn of the control loop: record finished and timed-out runs, renew
    leases, record runs whose worker died as abandoned, and claim due jobs into free slots.
    """

    def __init__(
        self,
        store: SqlStore,
        registry: JobRegistry,
        clock: Clock,
        *,
        worker_id: str | None = None,
        concurrency: int = 4,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        self.store = store
        self.registry = registry
        self.clock = clock
        self.worker_id = worker_id or default_worker_id()
        self.threads = JobThreads(concurrency)
        self.lease = lease
        self._leases_renewed = clock.monotonic()

    @property
    def busy(self) -> bool:
        return self.threads.free < self.threads.size

    def run_due(
        self, now: datetime | None = None, *, should_stop: Callable[[], bool] = lambda: False
    ) -> RunSummary:
        """Execute every active job whose next_run <= now (default: the clock's now), and wait
        for them. Each due (job, slot) runs exactly once across all processes; a due job that
        another process claimed is counted as skipped. Once `should_stop` turns true, nothing
        more is claimed and the round ends when the runs in progress end.
        """
        now = now or self.clock.now()
        seen = self.store.due_jobs(now)
        summary = RunSummary(tenants=seen)
        while True:
            claimed = 0 if should_stop() else self.step(now, summary)
            if self.busy:
                self.wait(self.max_wait(), summary)
            elif not claimed:
                break
        done = {UUID(item["id"]) for item in summary.executed + summary.failed}
        summary.skipped_jobs = set(seen) - done
        return summary

    def step(self, now: datetime, summary: RunSummary | None = None) -> int:
        """One turn of the control loop; return how many due jobs it took off the queue."""
        summary = summary if summary is not None else RunSummary()
        self.wait(0, summary)
        self._renew_leases()
        for run in self.store.abandon_expired(now):
            logger.warning(
                "run abandoned: job %s, worker %s",
                run.job_id,
                run.worker_id,
                extra={"action": "run_abandoned", "run_id": str(run.id)},
            )
        if not self.threads.free:
            return 0
        claims, taken = self.store.claim_due(
            now, self.worker_id, plan_slots, self.threads.free, self.lease
        )
        for claim in claims:
            summary.tenants[claim.job.id] = claim.job.tenant_id
            self._start(claim, summary)
        return taken

    def wait(self, timeout: float, summary: RunSummary | None = None) -> None:
        """Wait up to `timeout` seconds for runs to end, and record the ones that did."""
        summary = summary if summary is not None else RunSummary()
        for finished in self.threads.collect(timeout):
            self._record(finished.slot, summary, finished.result, finished.error)
        for slot in self.threads.expired(self.clock.monotonic()):
            seconds = slot.claim.job.timeout_seconds
            self._record(slot, summary, None, _TimedOut(f"timed out after {seconds}s"))

    def give_up(self) -> int:
        """Record every run still going as abandoned (the worker is stopping); return how many."""
        slots = self.threads.give_up()
        for slot in slots:
            self._record(
                slot,
                RunSummary(),
                None,
                _ShutDown("the worker shut down before the run ended (after its grace period)"),
            )
        return len(slots)

    def max_wait(self) -> float:
        """How long the control loop may block: until the next deadline or lease renewal."""
        now = self.clock.monotonic()
        renewal = self._leases_renewed + self.lease.total_seconds() / 3
        deadline = self.threads.next_deadline()
        wake = min(renewal, deadline) if deadline is not None else renewal
        return max(wake - now, 0.0)

    def _renew_leases(self) -> None:
        now = self.clock.monotonic()
        if now - self._leases_renewed < self.lease.total_seconds() / 3:
            return
        self._leases_renewed = now
        run_ids = [slot.claim.run_id for slot in self.threads.running()]
        self.store.extend_leases(run_ids, self.clock.now() + self.lease)

    def _start(self, claim: Claim, summary: RunSummary) -> None:
        started = self.clock.now()
        timeout = claim.job.timeout_seconds
        deadline = self.clock.monotonic() + timeout if timeout else None
        slot = Slot(claim, started, deadline, threading.Event())
        if claim.error:  # cannot run at all: record it without a thread
            self._record(slot, summary, None, _CannotRun(claim.error))
            return
        self.threads.start(slot, lambda cancelled: self._call(slot, cancelled))

    def _record(
        self,
        slot: Slot,
        summary: RunSummary,
        result: dict[str, Any] | None,
        error: BaseException | None,
    ) -> None:
        job, finished = slot.claim.job, self.clock.now()
        if error is None:
            status, message = RunStatus.SUCCEEDED, None
        else:
            status = _STATUS_OF.get(type(error), RunStatus.FAILED)
            text = (
                str(error)
                if isinstance(error, CronbaseError)
                else f"{type(error).__name__}: {error}"
            )
            message = storable_text(text)
        recorded = self.store.finish_run(
            slot.claim,
            status=status,
            started_at=slot.started,
            finished_at=finished,
            result=result,
            error=message,
        )
        if not recorded:
            logger.warning("run of %s ended after it was recorded abandoned", job.name)
            return
        extra = {
            "action": f"run_{status.value}",
            "job": str(job.id),
            "run_id": str(slot.claim.run_id),
        }
        if message is None:
            summary.executed.append(
                {
                    "id": str(job.id),
                    "name": job.name,
                    "function_name": job.function_name,
                    "next_run": isoformat(slot.claim.next_run),
                    "executed_at": isoformat(slot.started),
                }
            )
            logger.info(
                "run succeeded: %s (%s) in %.3fs, next run %s",
                job.name,
                job.function_name,
                (finished - slot.started).total_seconds(),
                isoformat(slot.claim.next_run),
                extra=extra,
            )
        else:
            summary.failed.append({"id": str(job.id), "name": job.name, "error": message})
            logger.warning(
                "run %s: %s (%s): %s",
                status.value,
                job.name,
                job.function_name,
                message,
                extra=extra,
            )

    def _call(self, slot: Slot, cancelled: threading.Event) -> dict[str, Any]:
        """Call the job's function in its own transaction: committed on return, else rolled back."""
        job = slot.claim.job
        function = self.registry.get(job.function_name)
        with self.store.connection() as conn:
            context = JobContext(
                connection=conn,
                job_id=job.id,
                tenant_id=job.tenant_id,
                metadata=dict(job.metadata) if isinstance(job.metadata, dict) else {},
                scheduled_for=slot.claim.slot,
                now=slot.started,
                logger=logging.getLogger(f"cronbase.job.{job.function_name}"),
                cancelled=cancelled,
            )
            result = _checked_result(function.func(context), job.function_name)
            conn.commit()
        return result


class _TimedOut(CronbaseError):
    """The run was still going at its deadline."""


class _ShutDown(CronbaseError):
    """The worker stopped before the run ended."""


class _CannotRun(CronbaseError):
    """The job cannot run at all (for example, its stored schedule is invalid)."""


_STATUS_OF: dict[type[BaseException], RunStatus] = {
    _TimedOut: RunStatus.TIMED_OUT,
    _ShutDown: RunStatus.ABANDONED,
}


def _checked_result(result: Any, function_name: str | None) -> dict[str, Any]:
    if result is None:
        return {}
    if not isinstance(result, dict):
        raise TypeError(
            f"job function {function_name!r} returned {type(result).__name__}; "
            "return a JSON-serialisable dict (or None)"
        )
    problem = json_problem(result)
    if problem:
        raise TypeError(f"job function {function_name!r} returned a dict that {problem}")
    return result
