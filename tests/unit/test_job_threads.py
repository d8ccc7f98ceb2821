"""JobThreads: threads take waiting runs themselves, within the pool's size; a nudge (a
wake-up from LISTEN) ends a wait for runs to end."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from cronbase.jobs import Claim
from cronbase.runner.pool import Execution, JobCall, JobThreads
from tests.unit.job_factory import make_job

NOW = datetime(2025, 1, 15, 10, 35, tzinfo=UTC)


def test_a_nudge_ends_a_wait_for_runs_at_once() -> None:
    threads = JobThreads(2)
    threads.nudge()
    # Without the nudge this would wait the whole timeout (and the test's own timeout fail it).
    assert threads.collect(3600) == []
    assert threads.mean_run_seconds is None  # a nudge is no run


class Waiting:
    """A runner's waiting runs, as the pool sees them: `take` hands out the next one."""

    def __init__(
        self,
        calls: list[Callable[[threading.Event], dict[str, Any]]],
        deadline: float | None = None,
    ) -> None:
        self.calls = list(calls)
        self.deadline = deadline
        self.taken: list[Execution] = []

    def take(self) -> tuple[Execution, JobCall] | None:
        if not self.calls:
            return None
        claim = Claim(uuid4(), make_job(), NOW, None)
        execution = Execution(claim, NOW, self.deadline, threading.Event())
        self.taken.append(execution)
        return execution, self.calls.pop(0)


def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_threads_take_the_waiting_runs_themselves_never_more_than_the_pool_size() -> None:
    lock, going, most = threading.Lock(), [0], [0]

    def run(_cancelled: threading.Event) -> dict[str, Any]:
        with lock:
            going[0] += 1
            most[0] = max(most[0], going[0])
        time.sleep(0.002)
        with lock:
            going[0] -= 1
        return {}

    waiting = Waiting([run] * 30)
    threads = JobThreads(3, waiting.take, lambda: NOW)
    threads.fill()  # the loop starts three; the threads go on by themselves, no collect between
    wait_for(lambda: not waiting.calls and threads.free == threads.size)
    ended = threads.collect(0)
    assert len(ended) == 30
    ran = sorted(str(finished.execution.claim.run_id) for finished in ended)
    assert ran == sorted(str(execution.claim.run_id) for execution in waiting.taken)
    assert most[0] <= 3
    assert threads.collect(0) == []  # each once


def test_a_thread_whose_run_timed_out_takes_no_more_runs_its_seat_went_to_another() -> None:
    release = {name: threading.Event() for name in ("a", "b", "c")}
    started: list[str] = []

    def blocking(name: str) -> Callable[[threading.Event], dict[str, Any]]:
        def run(_cancelled: threading.Event) -> dict[str, Any]:
            started.append(name)
            release[name].wait(10)
            return {}

        return run

    waiting = Waiting([blocking("a"), blocking("b"), blocking("c")], deadline=60.0)
    threads = JobThreads(1, waiting.take, lambda: NOW)
    threads.fill()
    wait_for(lambda: started == ["a"])
    [late] = threads.expired(61.0)  # a's deadline passed: its seat is free again
    assert late.cancelled.is_set()
    threads.fill()
    wait_for(lambda: started == ["a", "b"])
    release["a"].set()  # a returns late: ignored, and its thread must not start c beside b
    time.sleep(0.05)
    assert started == ["a", "b"]
    release["b"].set()  # b's thread takes c
    wait_for(lambda: started == ["a", "b", "c"])
    release["c"].set()
    wait_for(lambda: threads.free == 1)
    ended = [finished.execution.claim.run_id for finished in threads.collect(0)]
    assert ended == [execution.claim.run_id for execution in waiting.taken[1:]]  # not a's
