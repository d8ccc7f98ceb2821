"""One round of due jobs: claim them, run each registered function, record how it ended."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import random
import socket
import threading
import uuid
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from cronbase.clock import Clock
from cronbase.errors import CronbaseError
from cronbase.jobs import (
    Claim,
    Isolation,
    Job,
    Outcome,
    RunStatus,
    RunSummary,
    isoformat,
    storable_text,
)
from cronbase.registry import JobContext, JobRegistry, checked_result
from cronbase.runner.isolation import ChildJob, call_in_child
from cronbase.runner.planning import plan_slots, retry_at
from cronbase.runner.pool import JobThreads, Slot
from cronbase.store import SqlStore
from cronbase.store.sql import DEFAULT_LEASE

logger = logging.getLogger(__name__)

# Claim ahead as much work as the worker gets through in this long (see Runner).
CLAIM_AHEAD_SECONDS = 0.1
MAX_PREFETCH = 500
# Record ended runs in one transaction per this long, or per this many.
RECORD_DELAY_SECONDS = 0.05
MAX_RECORD_BATCH = 1000
# Look for runs whose worker died this often.
SWEEP_SECONDS = 1.0


def default_worker_id() -> str:
    """host:pid:random, unique per process and readable in the run history."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Runner:
    """Runs due jobs against a store, `concurrency` at a time. Safe from many processes at once.

    `step(now)` does one turn of the control loop: record finished and timed-out runs, renew
    leases, record runs whose worker died as abandoned, and claim due jobs: enough to fill the
    free slots and to keep `prefetch` more waiting for a slot.

    Unless given, `prefetch` follows the jobs: as many as the worker will get through in
    CLAIM_AHEAD_SECONDS at the recent mean run time. A burst of short jobs is then claimed in
    batches of hundreds, one transaction each, while long jobs are claimed only as slots free
    up, so they are not held here while another worker has room.

    Results are recorded in batches too: one transaction for the runs that ended in the last
    RECORD_DELAY_SECONDS (or sooner, once nothing else is running). When that transaction fails
    (the database restarts, a connection is cut), the results stay in memory and are written
    on a later turn: no run record is lost.
    """

    def __init__(
        self,
        store: SqlStore,
        registry: JobRegistry,
        clock: Clock,
        *,
        worker_id: str | None = None,
        concurrency: int = 4,
        prefetch: int | None = None,
        lease: timedelta = DEFAULT_LEASE,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.store = store
        self.registry = registry
        self.clock = clock
        self.worker_id = worker_id or default_worker_id()
        self.threads = JobThreads(concurrency)
        self._fixed_prefetch = prefetch
        self.lease = lease
        self.jitter = jitter
        self._leases_renewed = clock.monotonic()
        self._swept: float | None = None  # when abandoned runs were last looked for
        self._first_ended = 0.0  # when the oldest unrecorded run ended (monotonic)
        self._more_due = False  # the last claim took all it asked for: more may be waiting
        self._queued: deque[Claim] = deque()  # claimed, waiting for a free slot
        self._ended: list[Outcome] = []  # ended, not yet recorded
        # Once true, claims that have not started stay unstarted, to be given back.
        self.should_stop: Callable[[], bool] = lambda: False

    @property
    def busy(self) -> bool:
        """Whether runs are going, waiting for a slot, or waiting to be recorded."""
        return self.threads.free < self.threads.size or bool(self._queued or self._ended)

    @property
    def prefetch(self) -> int:
        """How many claims to keep waiting for a slot (see the class docstring)."""
        if self._fixed_prefetch is not None:
            return self._fixed_prefetch
        mean = self.threads.mean_run_seconds
        if mean is None:
            return 0
        ahead = self.threads.size * CLAIM_AHEAD_SECONDS / max(mean, 1e-6)
        return min(int(ahead), MAX_PREFETCH)

    @property
    def unrecorded(self) -> int:
        """How many ended runs wait to be recorded (the database was unreachable)."""
        return len(self._ended)

    def run_due(
        self, now: datetime | None = None, *, should_stop: Callable[[], bool] = lambda: False
    ) -> RunSummary:
        """Execute every active job whose next_run <= now (default: the clock's now), and
        pending runs whose time has come, and wait for them. Each due (job, slot) runs exactly
        once across all processes; a due job that another process claimed is counted as
        skipped. Once `should_stop` turns true, nothing more is claimed and the round ends
        when the runs in progress end.
        """
        now = now or self.clock.now()
        seen = self.store.due_jobs(now)
        summary = RunSummary(tenants=seen)
        self.should_stop = should_stop
        while True:
            if should_stop():
                self.release_queued()
                claimed = 0
            else:
                claimed = self.step(now, summary)
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
        self._sweep_abandoned(now)
        prefetch = self.prefetch
        # Claim when free slots would stay empty, or when the claims waiting run low; not for
        # every slot that frees up.
        if len(self._queued) >= self.threads.free and len(self._queued) > prefetch // 2:
            return 0
        wanted = self.threads.free + prefetch - len(self._queued)
        if wanted <= 0:
            return 0
        claims, taken = self.store.claim_due(now, self.worker_id, plan_slots, wanted, self.lease)
        if not self._queued:  # the claims just made hold fresh leases; older ones keep theirs
            self._leases_renewed = self.clock.monotonic()
        self._more_due = taken >= wanted
        for claim in claims:
            summary.tenants[claim.job.id] = claim.job.tenant_id
        self._queued.extend(claims)
        self._start_queued()
        return taken

    def _sweep_abandoned(self, now: datetime) -> None:
        # A lease is renewed every third of its length, so looking once a second is plenty.
        monotonic = self.clock.monotonic()
        if self._swept is not None and monotonic - self._swept < SWEEP_SECONDS:
            return
        retry = functools.partial(self._retry_at, status=RunStatus.ABANDONED)
        for run in self.store.abandon_expired(now, retry):
            logger.warning(
                "run abandoned: job %s, worker %s",
                run.job_id,
                run.worker_id,
                extra={"action": "run_abandoned", "run_id": str(run.id)},
            )
        self._swept = monotonic

    def wait(self, timeout: float, summary: RunSummary | None = None) -> None:
        """Wait up to `timeout` seconds for runs to end; start waiting claims in the slots
        that freed up, and record the runs that ended."""
        summary = summary if summary is not None else RunSummary()
        for finished in self.threads.collect(timeout):
            self._end(self._outcome(finished.slot, finished.result, finished.error))
        for slot in self.threads.expired(self.clock.monotonic()):
            seconds = slot.claim.job.timeout_seconds
            self._end(self._outcome(slot, None, _TimedOut(f"timed out after {seconds}s")))
        self._start_queued()
        if self._ended and (
            self.threads.free == self.threads.size
            or len(self._ended) >= MAX_RECORD_BATCH
            or self.clock.monotonic() - self._first_ended >= RECORD_DELAY_SECONDS
        ):
            self.flush(summary)

    def flush(self, summary: RunSummary | None = None) -> None:
        """Record the runs that ended, in one transaction. If it fails, they are kept for the
        next try and the error propagates."""
        if not self._ended:
            return
        ended = self._ended
        recorded = self.store.finish_runs(ended)
        self._ended = []
        for outcome, was_recorded in zip(ended, recorded, strict=True):
            self._report(outcome, was_recorded, summary if summary is not None else RunSummary())

    def give_up(self) -> int:
        """The worker is stopping: give the claims that never started back to the queue, and
        record every run still going as abandoned; return how many were still going."""
        slots = self.threads.give_up()
        for slot in slots:
            error = _ShutDown("the worker shut down before the run ended (after its grace period)")
            self._end(self._outcome(slot, None, error))
        self.release_queued()
        self.flush()
        return len(slots)

    def release_queued(self) -> None:
        """Give the claims that have not started back to the queue, for any worker to take."""
        self._more_due = False
        if self._queued:
            run_ids = [claim.run_id for claim in self._queued]
            self.store.release_runs(run_ids, self.worker_id, self.clock.now())
            self._queued.clear()

    def max_wait(self) -> float:
        """How long the control loop may block: until the next deadline, lease renewal or
        batch of results to record; not at all while free slots could take more work."""
        if self.threads.free and (self._queued or self._more_due) and not self.should_stop():
            return 0.0
        wake = [self._leases_renewed + self.lease.total_seconds() / 3]
        deadline = self.threads.next_deadline()
        if deadline is not None:
            wake.append(deadline)
        if self._ended:
            wake.append(self._first_ended + RECORD_DELAY_SECONDS)
        return max(min(wake) - self.clock.monotonic(), 0.0)

    def _leases_stale(self) -> bool:
        return self.clock.monotonic() - self._leases_renewed > self.lease.total_seconds() * 2 / 3

    def _renew_leases(self) -> None:
        now = self.clock.monotonic()
        if now - self._leases_renewed < self.lease.total_seconds() / 3:
            return
        run_ids = [slot.claim.run_id for slot in self.threads.running()]
        run_ids += [claim.run_id for claim in self._queued]
        self.store.extend_leases(run_ids, self.worker_id, self.clock.now() + self.lease)
        self._leases_renewed = now

    def _start_queued(self) -> None:
        if self.should_stop():
            return
        if self._queued and self._leases_stale():
            # Cut off from the database for most of a lease: other workers may soon record
            # these claims abandoned (and retry them). Drop them rather than run them twice.
            logger.warning(
                "dropping %d claim(s) whose lease could not be renewed", len(self._queued)
            )
            self._queued.clear()
            return
        while self._queued and self.threads.free:
            claim = self._queued.popleft()
            timeout = claim.job.timeout_seconds
            deadline = self.clock.monotonic() + timeout if timeout else None
            slot = Slot(claim, self.clock.now(), deadline, threading.Event())
            if claim.error:  # cannot run at all: record it without a thread
                self._end(self._outcome(slot, None, _CannotRun(claim.error)))
                continue
            self.threads.start(slot, functools.partial(self._call, slot))

    def _end(self, outcome: Outcome) -> None:
        if not self._ended:
            self._first_ended = self.clock.monotonic()
        self._ended.append(outcome)

    def _retry_at(
        self, job: Job, attempt: int, ended: datetime, *, status: RunStatus
    ) -> datetime | None:
        return retry_at(job, attempt, status, ended, self.jitter())

    def _outcome(
        self, slot: Slot, result: dict[str, Any] | None, error: BaseException | None
    ) -> Outcome:
        claim, finished = slot.claim, self.clock.now()
        if error is None:
            return Outcome(claim, RunStatus.SUCCEEDED, slot.started, finished, result)
        status = _STATUS_OF.get(type(error), RunStatus.FAILED)
        text = (
            str(error) if isinstance(error, CronbaseError) else f"{type(error).__name__}: {error}"
        )
        again = None
        if not isinstance(error, _CannotRun):  # a broken schedule stays broken
            again = self._retry_at(claim.job, claim.attempt, finished, status=status)
        return Outcome(claim, status, slot.started, finished, None, storable_text(text), again)

    def _report(self, outcome: Outcome, recorded: bool, summary: RunSummary) -> None:
        claim, job = outcome.claim, outcome.claim.job
        if not recorded:
            logger.warning("run of %s ended after it was recorded abandoned", job.name)
            return
        extra = {
            "action": f"run_{outcome.status.value}",
            "job": str(job.id),
            "run_id": str(claim.run_id),
            "attempt": claim.attempt,
        }
        if outcome.status is RunStatus.SUCCEEDED:
            summary.executed.append(
                {
                    "id": str(job.id),
                    "name": job.name,
                    "function_name": job.function_name,
                    "next_run": isoformat(claim.next_run),
                    "executed_at": isoformat(outcome.started_at),
                }
            )
            logger.info(
                "run succeeded: %s (%s) in %.3fs, next run %s",
                job.name,
                job.function_name,
                (outcome.finished_at - outcome.started_at).total_seconds(),
                isoformat(claim.next_run),
                extra=extra,
            )
            return
        summary.failed.append({"id": str(job.id), "name": job.name, "error": outcome.error})
        retrying = (
            f"; attempt {claim.attempt} of {job.max_attempts}, next at "
            f"{isoformat(outcome.retry_at)}"
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
            extra=extra,
        )

    def _call(self, slot: Slot, cancelled: threading.Event) -> dict[str, Any]:
        """Call the job's function in its own transaction: committed on return, else rolled back."""
        job = slot.claim.job
        function = self.registry.get(job.function_name)
        metadata = dict(job.metadata) if isinstance(job.metadata, dict) else {}
        if job.isolation == Isolation.PROCESS:
            child = ChildJob(
                job.id, job.tenant_id, metadata, slot.claim.slot, slot.started, slot.claim.attempt
            )
            url = self.store.engine.url.render_as_string(hide_password=False)
            return call_in_child(job.function_name or "", function.func, url, child, cancelled)
        with contextlib.ExitStack() as opened:
            context = JobContext(
                job_id=job.id,
                tenant_id=job.tenant_id,
                metadata=metadata,
                scheduled_for=slot.claim.slot,
                now=slot.started,
                logger=logging.getLogger(f"cronbase.job.{job.function_name}"),
                cancelled=cancelled,
                attempt=slot.claim.attempt,
                connect=lambda: opened.enter_context(self.store.connection()),
            )
            result = checked_result(function.func(context), job.function_name)
            if context.connected:
                context.connection.commit()
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
