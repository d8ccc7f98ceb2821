"""Parallel runs, priorities, timeouts, leases and abandoned runs, on a real store."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from cronbase.jobs import Outcome, Recorded, RunStatus, SlotPlan
from cronbase.registry import JobContext, JobRegistry
from cronbase.runner import Runner, Worker
from cronbase.store import SqlStore
from cronbase.store.tables import cron_job, cron_job_run
from cronbase.testing import FakeClock
from tests.helpers import MakeJob, run_history, wait_for_runs_to_end, wait_until


@pytest.fixture
def registry() -> JobRegistry:
    registry = JobRegistry()
    started: list[str] = []
    barrier = threading.Barrier(2, timeout=10)

    @registry.job("meet")
    def meet(_ctx: JobContext) -> dict[str, Any]:
        barrier.wait()  # returns only if both jobs run at the same time
        return {}

    @registry.job("hang")
    def hang(ctx: JobContext) -> dict[str, Any]:
        ctx.cancelled.wait(10)
        return {"stopped_early": ctx.cancelled.is_set()}

    @registry.job("order")
    def order(ctx: JobContext) -> dict[str, Any]:
        started.append(ctx.metadata["name"])
        return {"position": len(started)}

    @registry.job("nan")
    def nan(_ctx: JobContext) -> dict[str, Any]:
        return {"ratio": float("nan"), "text": "a\x00b"}

    @registry.job("nul_error")
    def nul_error(_ctx: JobContext) -> dict[str, Any]:
        raise RuntimeError("bad\x00byte")

    return registry


def statuses(store: SqlStore) -> list[str]:
    return sorted(run.status for run in run_history(store))


def test_jobs_run_in_parallel(
    store: SqlStore, make_job: MakeJob, registry: JobRegistry, clock: FakeClock
) -> None:
    make_job("meet")
    make_job("meet")
    clock.advance(timedelta(minutes=5))
    summary = Runner(store, registry, clock, concurrency=2).run_due()
    assert len(summary.executed) == 2, summary.failed


def test_higher_priority_runs_first_when_slots_are_short(
    store: SqlStore, make_job: MakeJob, registry: JobRegistry, clock: FakeClock
) -> None:
    for name, priority in [("low", -5), ("high", 10), ("normal", 0)]:
        make_job("order", priority=priority, metadata={"name": name})
    clock.advance(timedelta(minutes=5))
    Runner(store, registry, clock, concurrency=1).run_due()
    with store.transaction() as conn:
        rows = conn.execute(
            sa.select(cron_job.c.priority, cron_job_run.c.result).join(
                cron_job_run, cron_job_run.c.job_id == cron_job.c.id
            )
        ).all()
    assert sorted((r.result["position"], r.priority) for r in rows) == [(1, 10), (2, 0), (3, -5)]


def test_a_run_past_its_deadline_is_timed_out_and_frees_its_slot(
    store: SqlStore, make_job: MakeJob, registry: JobRegistry, clock: FakeClock
) -> None:
    make_job("hang", timeout_seconds=30)
    make_job("order", metadata={"name": "after"})
    clock.advance(timedelta(minutes=5))
    runner = Runner(store, registry, clock, concurrency=1, prefetch=0)

    assert runner.step(clock.now()) == 1  # the hanging job takes the only slot
    assert runner.step(clock.now()) == 0
    clock.advance(timedelta(seconds=31))
    runner.wait(0)  # past the deadline: recorded timed_out, the slot is free again
    assert statuses(store) == ["timed_out"]
    assert runner.step(clock.now()) == 1
    wait_for_runs_to_end(runner)
    assert statuses(store) == ["succeeded", "timed_out"]
    with store.transaction() as conn:
        error = conn.execute(
            sa.select(cron_job_run.c.error).where(cron_job_run.c.status == "timed_out")
        ).scalar_one()
    assert error == "timed out after 30s"


def test_runs_of_a_dead_worker_are_abandoned_once_their_lease_lapses(
    store: SqlStore, make_job: MakeJob, registry: JobRegistry, clock: FakeClock
) -> None:
    make_job("order", metadata={"name": "x"})
    clock.advance(timedelta(minutes=5))
    dead = Runner(store, registry, clock, worker_id="dead", lease=timedelta(seconds=60))
    claims, _ = store.claim_due(
        clock.now(), "dead", lambda job, _now: SlotPlan(job.next_run, None, None), 10, dead.lease
    )  # claimed, then the worker "died"
    assert len(claims) == 1
    survivor = Runner(store, registry, clock, worker_id="alive")

    survivor.step(clock.now())
    assert statuses(store) == ["running"]  # the lease still holds
    clock.advance(timedelta(seconds=61))
    survivor.step(clock.now())

    assert statuses(store) == ["abandoned"]
    [job] = store.list_jobs()
    assert job.metadata["error_count"] == 1
    assert "lease" in job.metadata["last_error"]
    # the dead worker's late result is refused rather than overwriting the record
    late = Outcome(claims[0], RunStatus.SUCCEEDED, clock.now(), clock.now())
    assert store.record_outcomes([late]) == [Recorded.ALREADY_ENDED]
    assert statuses(store) == ["abandoned"]


def test_a_live_worker_keeps_its_lease(
    store: SqlStore, make_job: MakeJob, registry: JobRegistry, clock: FakeClock
) -> None:
    make_job("hang")
    clock.advance(timedelta(minutes=5))
    runner = Runner(store, registry, clock, lease=timedelta(seconds=60))
    runner.step(clock.now())
    for _ in range(5):  # five minutes of a long run, renewing every 20 s of the lease
        clock.advance(timedelta(seconds=20))
        runner.step(clock.now())
    assert statuses(store) == ["running"]
    for slot in runner.threads.running():
        slot.cancelled.set()
    wait_for_runs_to_end(runner)
    assert statuses(store) == ["succeeded"]


def test_results_and_errors_the_database_cannot_store_fail_cleanly(
    store: SqlStore, make_job: MakeJob, registry: JobRegistry, clock: FakeClock
) -> None:
    make_job("nan")
    make_job("nul_error")
    make_job("order", metadata={"name": "ok"})
    clock.advance(timedelta(minutes=5))
    summary = Runner(store, registry, clock).run_due()
    assert len(summary.executed) == 1
    errors = sorted(item["error"] for item in summary.failed)
    assert errors[0] == "RuntimeError: badbyte"
    assert "not JSON-serialisable" in errors[1]
    assert statuses(store) == ["failed", "failed", "succeeded"]


def test_runs_still_going_after_the_shutdown_grace_are_recorded_abandoned(
    store: SqlStore, make_job: MakeJob, registry: JobRegistry, clock: FakeClock
) -> None:
    make_job("hang")
    clock.advance(timedelta(minutes=5))
    worker = Worker(Runner(store, registry, clock), clock, grace=0)
    worker.tick()  # the job starts and hangs
    assert statuses(store) == ["running"]

    worker.stop.set()
    worker.run()  # stops at once: no grace left for the hanging run

    assert statuses(store) == ["abandoned"]
    with store.reading() as conn:
        error = conn.execute(sa.select(cron_job_run.c.error)).scalar_one()
    assert "shut down before the run ended" in error


def test_a_stopping_worker_says_what_it_waits_for_and_stop_now_cuts_the_wait_short(
    store: SqlStore,
    make_job: MakeJob,
    registry: JobRegistry,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    make_job("hang", name="Send digest")
    clock.advance(timedelta(minutes=5))
    # The fake clock stands still: without stop_now the grace would never run out.
    worker = Worker(Runner(store, registry, clock), clock, grace=30)
    worker.stop_hint = "; press Ctrl-C again to stop now"
    worker.tick()
    assert statuses(store) == ["running"]

    worker.stop.set()
    caplog.set_level("INFO", logger="cronbase.runner.loop")
    worker.start()
    waiting = (
        "stopping: waiting up to 30 s for 1 run in progress (Send digest); "
        "press Ctrl-C again to stop now"
    )
    wait_until(lambda: waiting in caplog.messages, what=waiting, state=lambda: caplog.messages)
    assert statuses(store) == ["running"]  # it waits
    worker.stop_now.set()
    worker.join(timeout=10)

    assert statuses(store) == ["abandoned"]
    [run] = run_history(store)
    assert run.error.endswith("shut down before the run ended (when told to stop now)")
