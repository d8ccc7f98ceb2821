"""Job functions in threads: a bounded number at once, each with an optional deadline.

A thread cannot be killed. At its deadline a run's seat in the pool is given back and its
context's `cancelled` event is set, so a well-behaved job stops; one that does not keeps its
thread until it returns, and what it returns then is ignored (the run was recorded timed_out
already).

Runs are handed over without a round trip through the control loop for each: a thread whose
run ended takes the next waiting run itself (through `take`, the runner's), and the ended runs
gather in a list that the control loop collects in batches. The control loop is woken only
when it has something to do: the first run ended since its last look (its batch of results is
to be recorded soon), a seat left free (nothing waiting to take), or the runner's `wake` (the
waiting runs ran low, a notification came). At thousands of short runs a second, a wake-up and
a queue hand-off per run cost more than the runs.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID

from cronbase.jobs import Claim
from cronbase.runner.run_log import RunLog

JobCall = Callable[[threading.Event], dict[str, Any]]
# The next run for a free seat (and how to call it), or None. Called with the pool's lock held.
Take = Callable[[], "tuple[Execution, JobCall] | None"]
# A thread with no run for this long ends; a burst starts new ones.
IDLE_THREAD_SECONDS = 60.0


# Not frozen: a frozen dataclass sets each field through object.__setattr__, and one of these
# is made per run (they are not changed after they are made).
@dataclass(slots=True)
class Execution:
    """A claimed run going on in the pool (or about to start)."""

    claim: Claim
    started: datetime
    deadline: float | None  # on the clock's monotonic scale
    cancelled: threading.Event
    # What the run logs; read when it ends, also when it ends by its deadline while its thread
    # (or child process) goes on.
    log: RunLog = field(default_factory=RunLog)


class Finished(NamedTuple):
    execution: Execution
    result: dict[str, Any] | None
    error: BaseException | None
    ended: datetime  # when the function returned (the batch is collected later)


class JobThreads:
    """Up to `size` runs at a time, on threads that are reused from run to run.

    `fill` starts waiting runs (from `take`) on the free seats; a thread whose run ended takes
    the next one itself. A thread stays with its run until the function returns, even after
    the run's deadline gave its seat back; the next run then starts on another (new) thread.
    """

    def __init__(
        self, size: int, take: Take | None = None, now: Callable[[], datetime] | None = None
    ) -> None:
        self.size = size
        self._take = take or (lambda: None)
        self._now = now or _utc_now
        # One lock for the seats, the ended runs, and (the runner's) waiting runs: a run moves
        # from waiting to a seat, and from a seat to ended, in one step.
        self.lock = threading.RLock()
        self._running: dict[UUID, Execution] = {}
        self._ended: list[Finished] = []
        self._wake = threading.Event()  # ends a wait in `collect`
        # How long a run takes, on average of the recent ones (an exponential moving average
        # of wall-clock seconds): None until one has finished.
        self.mean_run_seconds: float | None = None
        self._work: queue.SimpleQueue[tuple[Execution, JobCall]] = queue.SimpleQueue()
        self._idle = 0  # threads waiting for work and not yet promised any

    @property
    def free(self) -> int:
        return self.size - len(self._running)

    @property
    def busy(self) -> bool:
        """Whether runs are going, or ended and not collected yet."""
        return bool(self._running or self._ended)

    def running(self) -> list[Execution]:
        with self.lock:
            return list(self._running.values())

    def fill(self) -> None:
        """Start waiting runs (from `take`) while seats are free."""
        while True:
            with self.lock:
                if len(self._running) >= self.size:
                    return
                item = self._take()
                if item is None:
                    return
                self._running[item[0].claim.run_id] = item[0]
                self._work.put(item)
                if self._idle > 0:  # promised to a waiting thread
                    self._idle -= 1
                    continue
            threading.Thread(target=self._serve, name="cronbase job", daemon=True).start()

    def _serve(self) -> None:
        item = self._next_work()
        while item is not None:
            execution, call = item
            began = time.perf_counter()
            try:
                result, error = call(execution.cancelled), None
            except BaseException as exc:  # noqa: BLE001 - handed to the control loop as data
                result, error = None, exc
            ended = Finished(execution, result, error, self._now())
            del result, error, execution, call  # hold nothing of the last run while idle
            item = self._ended_run(ended, time.perf_counter() - began) or self._next_work()

    def _next_work(self) -> tuple[Execution, JobCall] | None:
        """Wait for a run `fill` hands over; None once idle for IDLE_THREAD_SECONDS."""
        while True:
            try:
                return self._work.get(timeout=IDLE_THREAD_SECONDS)
            except queue.Empty:
                with self.lock:
                    # Work is put under the lock; an empty queue means none was promised to
                    # this thread, so it can go.
                    if self._work.empty():
                        self._idle -= 1
                        return None

    def _ended_run(self, ended: Finished, seconds: float) -> tuple[Execution, JobCall] | None:
        """Hand over a run that ended; return the next run this thread takes, if any."""
        with self.lock:
            mean = self.mean_run_seconds
            self.mean_run_seconds = seconds if mean is None else mean + (seconds - mean) / 8
            if self._running.pop(ended.execution.claim.run_id, None) is None:
                # It timed out (or was given up) and was recorded then; its seat went to
                # another thread.
                self._idle += 1
                return None
            first = not self._ended
            self._ended.append(ended)
            item = self._take()
            if item is not None:
                self._running[item[0].claim.run_id] = item[0]
            else:
                self._idle += 1
        if first or item is None:  # a batch of results began, or a seat is free
            self._wake.set()
        return item

    def wake(self) -> None:
        """End a wait in `collect` now, with or without an ended run (new work came, or the
        waiting runs ran low)."""
        self._wake.set()

    nudge = wake  # what a wake-up from LISTEN calls

    def collect(self, timeout: float) -> list[Finished]:
        """Wait up to `timeout` seconds for a wake-up (see the module's docstring); return every
        run that ended since the last call. The late return of a run that timed out earlier is
        not among them: it was recorded then."""
        if timeout > 0:
            self._wake.wait(timeout)
        with self.lock:
            self._wake.clear()
            ended, self._ended = self._ended, []
        return ended

    def expired(self, monotonic_now: float) -> list[Execution]:
        """Take the runs past their deadline out of the pool, telling each job to stop."""
        with self.lock:
            late = [
                s
                for s in self._running.values()
                if s.deadline is not None and s.deadline <= monotonic_now
            ]
            for execution in late:
                del self._running[execution.claim.run_id]
        for execution in late:
            execution.cancelled.set()
        return late

    def give_up(self) -> list[Execution]:
        """Take every run out of the pool, telling each job to stop (the worker is shutting
        down)."""
        with self.lock:
            executions = list(self._running.values())
            self._running.clear()
        for execution in executions:
            execution.cancelled.set()
        return executions

    def next_deadline(self) -> float | None:
        with self.lock:
            deadlines = [s.deadline for s in self._running.values() if s.deadline is not None]
        return min(deadlines, default=None)


def _utc_now() -> datetime:
    return datetime.now(UTC)
