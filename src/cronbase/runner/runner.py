"""The runner: claims due runs, starts them on its threads, and records how they ended."""

from __future__ import annotations

import functools
import logging
import os
import random
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from cronbase.clock import Clock
from cronbase.fair_share import TenantShares, default_cap
from cronbase.jobs import Outcome, Recorded, RunSummary
from cronbase.metrics import ProcessMetrics
from cronbase.registry import JobRegistry
from cronbase.runner import policy
from cronbase.runner.ahead import HeldClaims, due_at
from cronbase.runner.calling import call_job
from cronbase.runner.outcomes import CannotRun, LeaseLapsed, ShutDown, TimedOut, build_outcome
from cronbase.runner.planning import batch_planner
from cronbase.runner.pool import Execution, JobCall, JobThreads
from cronbase.runner.reporting import report, report_abandoned
from cronbase.runner.tally import RunTally
from cronbase.runner.waiting import WaitingClaims
from cronbase.store import Store
from cronbase.store.ahead import ClaimsAhead
from cronbase.store.leases import DEFAULT_LEASE

logger = logging.getLogger(__name__)

Stopping = Callable[[], bool]


def default_worker_id() -> str:
    """host:pid:random, unique per process and readable in the run history."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Runner:
    """Runs due jobs against a store, `concurrency` at a time. Safe from many processes at once.

    `step(now)` does one turn of the control loop: record ended and timed-out runs, renew
    leases, record runs whose worker died as abandoned, and claim runs: enough to fill the
    free threads and to keep `prefetch` more waiting (see policy.py for when and how many),
    at most `max_running_per_tenant` of one tenant in flight (default: half the threads,
    rounded up; see fair_share.py).

    Results are recorded in batches: one transaction for the runs that ended in the last
    RECORD_DELAY_SECONDS (or sooner, once nothing else is running). When that transaction fails
    (the database restarts, a connection is cut), the results stay in memory and are written
    on a later turn: no run record is lost.

    `stop` is the runner's one stop condition (a Worker sets it): once set, claims that have
    not started stay unstarted, to be given back. Every run it records is counted in `metrics`
    (the process's, from the bootstrap; else a registry of its own).
    """

    def __init__(
        self,
        store: Store,
        registry: JobRegistry,
        clock: Clock,
        *,
        worker_id: str | None = None,
        concurrency: int = 4,
        max_running_per_tenant: int | None = None,
        prefetch: int | None = None,
        lease: timedelta = DEFAULT_LEASE,
        jitter: Callable[[], float] = random.random,
        stop: threading.Event | None = None,
        metrics: ProcessMetrics | None = None,
        tally: RunTally | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.clock = clock
        self.worker_id = worker_id or default_worker_id()
        # A thread whose run ended takes the next waiting run itself (_take), under the pool's
        # lock, which also guards _queued.
        self.threads = JobThreads(concurrency, self._take, clock.now)
        self.tenant_cap = max_running_per_tenant or default_cap(concurrency)
        self._fixed_prefetch = prefetch
        self.lease = lease
        self.jitter = jitter
        self.stop = stop if stop is not None else threading.Event()
        self.metrics = metrics or ProcessMetrics()
        self.tally = tally  # the run log as a summary per interval (tally.py); None: a line each
        self._leases_renewed = clock.monotonic()
        self._swept: float | None = None  # when lapsed leases were last looked for
        self._first_ended = 0.0  # when the oldest unrecorded run ended (monotonic)
        self._more_due = False  # the last claim took all it asked for: more may be waiting
        self._queued = WaitingClaims(self.threads.lock)  # claimed, waiting for a free thread
        self._low_mark = 0  # the threads wake the loop when as few claims are left waiting
        self._stopping: Stopping = self.stop.is_set  # run_due's own condition while it runs
        self._held = HeldClaims(ClaimsAhead(store.engine), self.worker_id, clock)  # ahead.py
        self._claimed_until: datetime | None = None  # the horizon of the last claim ahead
        self._window = 0.0  # seconds: how far ahead the last turn claimed
        self._ended: list[Outcome] = []  # ended, not yet recorded

    @property
    def busy(self) -> bool:
        """Whether runs are going, waiting for a thread, or waiting to be recorded."""
        return self.threads.busy or bool(self._queued or self._ended or self._held)

    @property
    def prefetch(self) -> int:
        """How many claims to keep waiting for a thread (see policy.prefetch)."""
        if self._fixed_prefetch is not None:
            return self._fixed_prefetch
        return policy.prefetch(self.threads.size, self.threads.mean_run_seconds)

    def running_jobs(self) -> list[str]:
        """The names of the jobs whose runs are going on now."""
        return [execution.claim.job.name for execution in self.threads.running()]

    @property
    def unrecorded(self) -> int:
        """How many ended runs wait to be recorded (the database was unreachable)."""
        return len(self._ended)

    def run_due(
        self, now: datetime | None = None, *, should_stop: Stopping = lambda: False
    ) -> RunSummary:
        """Execute every active job whose next_run <= now (default: the clock's now), and
        pending runs whose time has come, and wait for them. Each due (job, slot) runs exactly
        once across all processes; a due job that another process claimed is counted as
        skipped. Once `should_stop` turns true (or the runner's `stop` is set), nothing more
        is claimed and the round ends when the runs in progress end.
        """
        now = now or self.clock.now()
        seen = self.store.due_jobs(now)
        summary = RunSummary(tenants=seen)

        def stopping() -> bool:
            return self.stop.is_set() or should_stop()

        self._stopping = stopping  # the threads ask it too, before they take a waiting run
        try:
            while True:
                if stopping():
                    self.release_queued()
                    claimed = 0
                else:
                    claimed = self._step(now, summary, stopping)
                if self.busy:
                    self._wait(self._max_wait(stopping), summary, stopping)
                elif not claimed:
                    break
        finally:
            self._stopping = self.stop.is_set
        self.log_tally()
        done = {UUID(item["id"]) for item in summary.executed + summary.failed}
        summary.skipped_jobs = set(seen) - done
        return summary

    def step(self, now: datetime, summary: RunSummary | None = None, *, ahead: float = 0) -> int:
        """One turn of the control loop; return how many due jobs it took off the queue. With
        `ahead` (seconds), runs due by then are claimed now and held until due (ahead.py)."""
        return self._step(now, summary, self.stop.is_set, ahead)

    def wait(self, timeout: float, summary: RunSummary | None = None) -> None:
        """Wait up to `timeout` seconds for runs to end; start waiting claims on the threads
        that freed up, and record the runs that ended."""
        self._wait(timeout, summary, self.stop.is_set)

    def max_wait(self) -> float:
        """How long the control loop may block (see policy.max_wait)."""
        return self._max_wait(self.stop.is_set)

    def flush(self, summary: RunSummary | None = None) -> None:
        """Record the runs that ended, in one transaction. If it fails, they are kept for the
        next try and the error propagates."""
        if not self._ended:
            return
        ended = self._ended
        verdicts = self.store.record_outcomes(ended)
        self._ended = []
        for outcome, verdict in zip(ended, verdicts, strict=True):
            report(outcome, verdict, summary, self.tally)
        recorded = [o for o, v in zip(ended, verdicts, strict=True) if v is Recorded.RECORDED]
        self.metrics.runs_recorded(recorded, self.registry)

    def give_up(self, why: str = "after its grace period") -> int:
        """The worker is stopping: give the claims that never started back to the queue, and
        record every run still going as abandoned (`why`: when the worker gave up); return
        how many were still going."""
        executions = self.threads.give_up()
        for execution in executions:
            error = ShutDown(f"the worker shut down before the run ended ({why})")
            self._end(execution, None, error, self.clock.now())
        self.release_queued()
        self.flush()
        return len(executions)

    def release_queued(self) -> None:
        """Give the claims that have not started back to the queue, for any worker to take;
        withdraw those held ahead of their instant (their jobs are due at it again)."""
        self._more_due = False
        self._held.withdraw_all()
        if queued := self._queued.take_all():
            try:
                run_ids = [claim.run_id for claim in queued]
                self.store.release_runs(run_ids, self.worker_id, self.clock.now())
            except BaseException:
                self._queued.put_back(queued)  # to be given back at the next try
                raise

    def start_on_time(self) -> None:
        """Start the claims held ahead from a thread of their own, at their instants, until
        `stop` is set (a worker's; see ahead.py); `join_on_time` waits for that thread."""
        self._held.start_on_time(self.stop, self._start_held_on_time)

    def join_on_time(self) -> None:
        self._held.join()

    def log_tally(self) -> None:
        """Write the summary of the runs counted since the last one (with a tally), now."""
        if self.tally is not None:
            self.tally.maybe_log(self.clock.monotonic(), force=True)

    def _step(
        self, now: datetime, summary: RunSummary | None, stopping: Stopping, ahead: float = 0
    ) -> int:
        self._wait(0, summary, stopping)
        if self.tally is not None:
            self.tally.maybe_log(self.clock.monotonic())
        self._renew_leases()
        self._sweep_lapsed(now)
        waiting = len(self._queued) + len(self._held)
        wanted = policy.claims_wanted(waiting, self.threads.free, self.prefetch)
        if wanted <= 0:
            return 0
        if self._held and policy.claimed_far_enough(self._claimed_until, now, ahead):
            return 0
        shares = self._shares()
        self._window = ahead
        horizon = now + timedelta(seconds=ahead)
        claims, taken = self.store.claim_due(
            horizon, self.worker_id, batch_planner(), wanted, self.lease, shares, started=now
        )
        if not self._queued:  # the claims just made hold fresh leases; older ones keep theirs
            self._leases_renewed = self.clock.monotonic()
        # Runs passed over for a full tenant: the next claim leaves that tenant out and may
        # find others' runs, so claim again at once rather than at the next poll.
        self._more_due = taken >= wanted or shares.passed_over > 0
        self._claimed_until = horizon if ahead and not self._more_due else None
        self._low_mark = self.prefetch // 2  # where claims_wanted claims again
        ready = []
        for claim in claims:
            if summary is not None:
                summary.tenants[claim.job.id] = claim.job.tenant_id
            due = due_at(claim, now, horizon)
            if due > now:
                self._held.add(due, claim)
            else:
                ready.append(claim)
        self._queued.add(ready)
        self._start_queued(stopping)
        return taken

    def _shares(self) -> TenantShares:
        """The runs of each tenant running here. Claims waiting for a thread do not count: the
        queue holds only CLAIM_AHEAD_SECONDS of work, and counting it would make a burst of
        many tenants' short jobs scan past full tenants for every few runs it claims."""
        claims = [execution.claim for execution in self.threads.running()]
        return TenantShares.counting(self.tenant_cap, (claim.job.tenant_id for claim in claims))

    def _wait(self, timeout: float, summary: RunSummary | None, stopping: Stopping) -> None:
        for finished in self.threads.collect(timeout):
            self._end(finished.execution, finished.result, finished.error, finished.ended)
        for execution in self.threads.expired(self.clock.monotonic()):
            seconds = execution.claim.job.timeout_seconds
            self._end(execution, None, TimedOut(f"timed out after {seconds}s"), self.clock.now())
        self._start_held(stopping)
        self._start_queued(stopping)
        # Runs held ahead start soon, and their results can join this batch.
        idle = self.threads.free == self.threads.size and not self._held
        if policy.flush_due(len(self._ended), idle, self._first_ended, self.clock.monotonic()):
            self.flush(summary)

    def _start_held(self, stopping: Stopping) -> None:
        """Queue the held claims whose instant has come (unless their own thread does)."""
        if self._held and not self._held.on_time:
            self._held.start_due(stopping, self._queued.add)

    def _start_held_on_time(self) -> None:
        if self._held.start_due(self.stop.is_set, self._queued.add):
            self.threads.fill()

    def _max_wait(self, stopping: Stopping) -> float:
        free, now, monotonic = self.threads.free, self.clock.now(), self.clock.monotonic()
        held = policy.held_wake(
            self._held.next_due(), self._held.on_time, self._claimed_until, self._window, now
        )
        waiting = len(self._queued) + len(self._held)  # more due: to start if the turn claims it
        claims_more = self._more_due and policy.claims_wanted(waiting, free, self.prefetch) > 0
        return policy.max_wait(
            monotonic,
            more_to_start=bool(free and (self._queued or claims_more) and not stopping()),
            renewed=self._leases_renewed,
            lease_seconds=self.lease.total_seconds(),
            next_deadline=self.threads.next_deadline(),
            first_ended=self._first_ended if self._ended else None,
            next_held=None if held is None else monotonic + held,
        )

    def _renew_leases(self) -> None:
        now = self.clock.monotonic()
        if not policy.renewal_due(self._leases_renewed, self.lease.total_seconds(), now):
            return
        run_ids = [claim.run_id for claim in self._held.claims()]  # first: see HeldClaims.claims
        with self.threads.lock:  # a claim moves from queued to running under it
            run_ids += [execution.claim.run_id for execution in self.threads.running()]
            run_ids += self._queued.run_ids()
        self.store.extend_leases(run_ids, self.worker_id, self.clock.now() + self.lease)
        self._leases_renewed = now

    def _sweep_lapsed(self, now: datetime) -> None:
        """Record as abandoned the runs whose lease lapsed (their worker died): through the
        same outcome builder and recording as any other ending."""
        monotonic = self.clock.monotonic()
        if not policy.sweep_due(self._swept, monotonic):
            return
        lapsed = self.store.lapsed_claims(now)
        outcomes = [
            build_outcome(claim, run.started_at or now, now, None, LeaseLapsed(), self.jitter())
            for claim, run in lapsed
        ]
        verdicts = self.store.record_outcomes(outcomes)
        for outcome, (_, run), verdict in zip(outcomes, lapsed, verdicts, strict=True):
            if verdict is Recorded.RECORDED:
                report_abandoned(run)
                self.metrics.run_recorded(outcome, self.registry)
        self._swept = monotonic

    def _start_queued(self, stopping: Stopping) -> None:
        if stopping():
            return
        if self._queued and self._leases_stale():
            # Cut off from the database for most of a lease: other workers may soon record
            # these claims abandoned (and retry them). Drop them rather than run them twice.
            dropped = self._queued.take_all()
            logger.warning("dropping %d claim(s) whose lease could not be renewed", len(dropped))
            return
        while True:
            self.threads.fill()  # from the front of the queue, up to a claim that cannot run
            claim = self._queued.cannot_run() if self.threads.free else None
            if claim is None:
                return
            # It cannot run at all (a broken schedule): record it without a thread.
            execution = Execution(claim, self.clock.now(), None, threading.Event())
            self._end(execution, None, CannotRun(claim.error), execution.started)

    def _leases_stale(self) -> bool:
        renewed, lease = self._leases_renewed, self.lease.total_seconds()
        return policy.leases_stale(renewed, lease, self.clock.monotonic())

    def _take(self) -> tuple[Execution, JobCall] | None:
        """The next waiting claim as an Execution starting now, and its call; None if there is
        none, the runner stops, leases are stale or it cannot run (the loop records those).
        Called under the pool's lock, by the loop or by a thread whose run ended."""
        stale = self._stopping() or self._leases_stale()
        claim = self._queued.next_to_run() if self._queued and not stale else None
        if claim is None:
            return None
        # Down to where the loop claims again (policy.claims_wanted): wake it. (That none is
        # left, a thread that finds none says; the loop's own fill needs no wake-up.)
        if self._low_mark and len(self._queued) == self._low_mark:
            self.threads.wake()
        timeout = claim.job.timeout_seconds
        deadline = self.clock.monotonic() + timeout if timeout else None
        execution = Execution(claim, self.clock.now(), deadline, threading.Event())
        return execution, functools.partial(call_job, self.store, self.registry, execution)

    def _end(
        self,
        execution: Execution,
        result: dict[str, Any] | None,
        error: BaseException | None,
        ended: datetime,
    ) -> None:
        """Queue the outcome of a run that ended, to be recorded with the next batch."""
        outcome = build_outcome(
            execution.claim,
            execution.started,
            ended,
            result,
            error,
            self.jitter(),
            execution.log.text(),
        )
        if not self._ended:
            self._first_ended = self.clock.monotonic()
        self._ended.append(outcome)
