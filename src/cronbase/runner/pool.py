"""Job functions in threads: a bounded number at once, each with an optional deadline.

A thread cannot be killed. At its deadline a run's seat in the pool is given back and its
context's `cancelled` event is set, so a well-behaved job stops; one that does not keeps its
thread until it returns, and what it returns then is ignored (the run was recorded timed_out
already).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from cronbase.jobs import Claim
from cronbase.runner.run_log import RunLog

JobCall = Callable[[threading.Event], dict[str, Any]]
# A run that ended, as its thread hands it over: run id, result, error, seconds it took.
_Done = tuple[UUID, dict[str, Any] | None, BaseException | None, float]

# Put in the queue of ended runs by `nudge`: ends a wait in `collect` with no run ended.
_NUDGE = (None, None, None, 0.0)
# A thread with no run for this long ends; a burst starts new ones.
IDLE_THREAD_SECONDS = 60.0


@dataclass(frozen=True)
class Execution:
    """A claimed run going on in the pool (or about to start)."""

    claim: Claim
    started: datetime
    deadline: float | None  # on the clock's monotonic scale
    cancelled: threading.Event
    # What the run logs; read when it ends, also when it ends by its deadline while its thread
    # (or child process) goes on.
    log: RunLog = field(default_factory=RunLog)


@dataclass(frozen=True)
class Finished:
    execution: Execution
    result: dict[str, Any] | None
    error: BaseException | None


class JobThreads:
    """Up to `size` runs at a time, on threads that are reused from run to run.

    A thread stays with its run until the function returns, even after the run's deadline
    gave its seat back; the next run then starts on another (new) thread.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._running: dict[UUID, Execution] = {}
        self._done: queue.Queue[_Done | tuple[None, None, None, float]] = queue.Queue()
        # How long a run takes, on average of the recent ones (an exponential moving average
        # of wall-clock seconds): None until one has finished.
        self.mean_run_seconds: float | None = None
        self._work: queue.SimpleQueue[tuple[Execution, JobCall]] = queue.SimpleQueue()
        self._idle = 0  # threads waiting for work and not yet promised any
        self._lock = threading.Lock()

    @property
    def free(self) -> int:
        return self.size - len(self._running)

    def running(self) -> list[Execution]:
        return list(self._running.values())

    def start(self, execution: Execution, call: JobCall) -> None:
        self._running[execution.claim.run_id] = execution
        with self._lock:
            self._work.put((execution, call))
            if self._idle > 0:  # promised to a waiting thread
                self._idle -= 1
                return
        threading.Thread(target=self._serve, name="cronbase job", daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                execution, call = self._work.get(timeout=IDLE_THREAD_SECONDS)
            except queue.Empty:
                with self._lock:
                    # Work is put under the lock; an empty queue means none was promised to
                    # this thread, so it can go.
                    if self._work.empty():
                        self._idle -= 1
                        return
                continue
            began = time.perf_counter()
            try:
                result, error = call(execution.cancelled), None
            except BaseException as exc:  # noqa: BLE001 - handed to the control loop as data
                result, error = None, exc
            self._done.put((execution.claim.run_id, result, error, time.perf_counter() - began))
            del result, error
            del execution, call  # hold nothing of the last run while idle
            with self._lock:
                self._idle += 1

    def nudge(self) -> None:
        """End a wait in `collect` now, with or without an ended run (new work came)."""
        self._done.put(_NUDGE)

    def collect(self, timeout: float) -> list[Finished]:
        """Wait up to `timeout` seconds for a run to finish; return every finished run.

        The late return of a run that timed out earlier does not count: it was recorded then,
        so the wait goes on for a run that is still in the pool.
        """
        deadline = time.monotonic() + timeout
        while True:
            items = self._take(max(deadline - time.monotonic(), 0.0))
            finished = []
            nudged = any(item[0] is None for item in items)
            for run_id, result, error, seconds in items:
                if run_id is None:  # a nudge
                    continue
                mean = self.mean_run_seconds
                self.mean_run_seconds = seconds if mean is None else mean + (seconds - mean) / 8
                execution = self._running.pop(run_id, None)
                if execution is not None:  # else it timed out earlier and was recorded then
                    finished.append(Finished(execution, result, error))
            if finished or nudged or not items or time.monotonic() >= deadline:
                return finished

    def _take(self, timeout: float) -> list[Any]:
        """Every run that ended, waiting up to `timeout` seconds for the first."""
        items = []
        try:
            items.append(
                self._done.get(timeout=timeout) if timeout > 0 else self._done.get_nowait()
            )
            while True:
                items.append(self._done.get_nowait())
        except queue.Empty:
            pass
        return items

    def expired(self, monotonic_now: float) -> list[Execution]:
        """Take the runs past their deadline out of the pool, telling each job to stop."""
        late = [
            s
            for s in self._running.values()
            if s.deadline is not None and s.deadline <= monotonic_now
        ]
        for execution in late:
            execution.cancelled.set()
            del self._running[execution.claim.run_id]
        return late

    def give_up(self) -> list[Execution]:
        """Take every run out of the pool, telling each job to stop (the worker is shutting
        down)."""
        executions = list(self._running.values())
        for execution in executions:
            execution.cancelled.set()
        self._running.clear()
        return executions

    def next_deadline(self) -> float | None:
        deadlines = [s.deadline for s in self._running.values() if s.deadline is not None]
        return min(deadlines, default=None)
