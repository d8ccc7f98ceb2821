"""Job functions in threads: a bounded number at once, each with an optional deadline.

A thread cannot be killed. At its deadline a run's slot is given back and its context's
`cancelled` event is set, so a well-behaved job stops; one that does not keeps its thread until
it returns, and what it returns then is ignored (the run was recorded timed_out already).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from cronbase.jobs import Claim

JobCall = Callable[[threading.Event], dict[str, Any]]


@dataclass(frozen=True)
class Slot:
    claim: Claim
    started: datetime
    deadline: float | None  # on the clock's monotonic scale
    cancelled: threading.Event


@dataclass(frozen=True)
class Finished:
    slot: Slot
    result: dict[str, Any] | None
    error: BaseException | None


class JobThreads:
    def __init__(self, size: int) -> None:
        self.size = size
        self._running: dict[UUID, Slot] = {}
        self._done: queue.Queue[tuple[UUID, dict[str, Any] | None, BaseException | None]] = (
            queue.Queue()
        )

    @property
    def free(self) -> int:
        return self.size - len(self._running)

    def running(self) -> list[Slot]:
        return list(self._running.values())

    def start(self, slot: Slot, call: JobCall) -> None:
        run_id = slot.claim.run_id

        def target() -> None:
            try:
                self._done.put((run_id, call(slot.cancelled), None))
            except BaseException as exc:  # noqa: BLE001 - handed to the control loop as data
                self._done.put((run_id, None, exc))

        self._running[run_id] = slot
        threading.Thread(target=target, name=f"job {slot.claim.job.name}", daemon=True).start()

    def collect(self, timeout: float) -> list[Finished]:
        """Wait up to `timeout` seconds for a run to finish; return every finished run."""
        items = []
        try:
            items.append(
                self._done.get(timeout=timeout) if timeout > 0 else self._done.get_nowait()
            )
            while True:
                items.append(self._done.get_nowait())
        except queue.Empty:
            pass
        finished = []
        for run_id, result, error in items:
            slot = self._running.pop(run_id, None)
            if slot is not None:  # else it timed out earlier and was recorded then
                finished.append(Finished(slot, result, error))
        return finished

    def expired(self, monotonic_now: float) -> list[Slot]:
        """Give back the slots of runs past their deadline, telling each job to stop."""
        late = [
            s
            for s in self._running.values()
            if s.deadline is not None and s.deadline <= monotonic_now
        ]
        for slot in late:
            slot.cancelled.set()
            del self._running[slot.claim.run_id]
        return late

    def give_up(self) -> list[Slot]:
        """Give back every slot, telling each job to stop (the worker is shutting down)."""
        slots = list(self._running.values())
        for slot in slots:
            slot.cancelled.set()
        self._running.clear()
        return slots

    def next_deadline(self) -> float | None:
        deadlines = [s.deadline for s in self._running.values() if s.deadline is not None]
        return min(deadlines, default=None)
