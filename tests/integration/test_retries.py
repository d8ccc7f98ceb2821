"""Retries with backoff, manual runs, and results kept through a database outage."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa

from cronbase.jobs import Job, RunStatus
from cronbase.manager import SYSTEM, JobManager
from cronbase.registry import JobContext, JobRegistry
from cronbase.runner import Runner
from cronbase.runner.planning import MAX_RETRY_DELAY, retry_at
from cronbase.store import SqlStore
from cronbase.store.tables import cron_job_run
from cronbase.testing import FakeClock
from tests.conftest import _admin
from tests.helpers import MakeJob, create_job, run_history, wait_until
from tests.unit.job_factory import NOW, make_job


def job(**values: Any) -> Job:
    return make_job(**{"id": UUID(int=1), "schedule": "hourly", **values})


# --- the backoff (pure) -----------------------------------------------------------------------


def test_the_delay_doubles_with_each_attempt_and_jitter_takes_off_up_to_half() -> None:
    five = job(max_attempts=5, retry_delay_seconds=10)
    for attempt, full in [(1, 10), (2, 20), (3, 40), (4, 80)]:
        latest = retry_at(five, attempt, RunStatus.FAILED, NOW, jitter=0.0)
        earliest = retry_at(five, attempt, RunStatus.FAILED, NOW, jitter=0.999999)
        assert latest == NOW + timedelta(seconds=full)
        assert earliest is not None
        assert NOW + timedelta(seconds=full / 2) <= earliest < latest


def test_no_retry_once_attempts_are_used_up_or_after_success() -> None:
    three = job(max_attempts=3, retry_delay_seconds=10)
    assert retry_at(three, 3, RunStatus.FAILED, NOW, 0.5) is None
    assert retry_at(three, 1, RunStatus.SUCCEEDED, NOW, 0.5) is None
    assert retry_at(job(), 1, RunStatus.FAILED, NOW, 0.5) is None  # max_attempts defaults to 1
    for status in (RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.ABANDONED):
        assert retry_at(three, 1, status, NOW, 0.5) is not None


def test_the_delay_is_capped() -> None:
    many = job(max_attempts=20, retry_delay_seconds=86400)
    assert retry_at(many, 19, RunStatus.FAILED, NOW, 0.0) == NOW + MAX_RETRY_DELAY


# --- retries on a real store ------------------------------------------------------------------


@pytest.fixture
def registry() -> JobRegistry:
    registry = JobRegistry()
    failures: Counter[UUID] = Counter()

    @registry.job("boom")
    def boom(_ctx: JobContext) -> dict[str, Any]:
        raise RuntimeError("always fails")

    @registry.job("flaky")
    def flaky(ctx: JobContext) -> dict[str, Any]:
        failures[ctx.job_id] += 1
        if failures[ctx.job_id] <= int(ctx.metadata.get("fail_times", 1)):
            raise ConnectionError(f"failure {failures[ctx.job_id]}")
        return {"calls": failures[ctx.job_id]}

    @registry.job("hang")
    def hang(ctx: JobContext) -> dict[str, Any]:
        ctx.cancelled.wait(10)
        return {}

    @registry.job("gate")
    def gate(ctx: JobContext) -> dict[str, Any]:
        opened = GATES[ctx.job_id].wait(10)
        return {"opened": opened}

    return registry


GATES: dict[UUID, threading.Event] = {}


def history(store: SqlStore) -> list[tuple[int, str, datetime]]:
    """(attempt, status, scheduled_for) of every run, in attempt order."""
    return [(run.attempt, run.status, run.scheduled_for) for run in run_history(store)]


def pending_after(store: SqlStore) -> datetime:
    with store.reading() as conn:
        query = sa.select(cron_job_run.c.run_after).where(cron_job_run.c.status == "pending")
        return conn.execute(query).scalar_one()


def test_a_failing_job_is_tried_max_attempts_times_and_counted_once(
    store: SqlStore, make_job: MakeJob, registry: JobRegistry, clock: FakeClock
) -> None:
    make_job("boom", max_attempts=3, retry_delay_seconds=10)
    clock.advance(timedelta(minutes=5))
    runner = Runner(store, registry, clock, jitter=lambda: 0.0)

    summary = runner.run_due()
    assert len(summary.failed) == 1
    slot = clock.now()
    assert history(store) == [(1, "failed", slot), (2, "pending", slot)]
    assert pending_after(store) == clock.now() + timedelta(seconds=10)
    [job] = store.list_jobs()
    assert "error_count" not in job.metadata  # a failure that will be retried does not count

    assert runner.run_due().total == 0  # not before its time
    clock.advance(timedelta(seconds=10))
    runner.run_due()
    assert pending_after(store) == clock.now() + timedelta(seconds=20)  # doubled
    clock.advance(timedelta(seconds=20))
    runner.run_due()

    assert history(store) == [(1, "failed", slot), (2, "failed", slot), (3, "failed", slot)]
    [job] = store.list_jobs()
    assert job.metadata["error_count"] == 1
    assert job.metadata["execution_count"] == 1
    assert job.metadata["last_error"] == "RuntimeError: always fails"
    assert job.next_run == slot + timedelta(minutes=5)  # the schedule went on regardless


def test_a_retry_that_succeeds_leaves_the_job_healthy(
    store: SqlStore, make_job: MakeJob, registry: JobRegistry, clock: FakeClock
) -> None:
    make_job("flaky", max_attempts=3, retry_delay_seconds=5, metadata={"fail_times": 1})
    clock.advance(timedelta(minutes=5))
    runner = Runner(store, registry, clock)
    runner.run_due()
    clock.advance(timedelta(seconds=5))
    summary = runner.run_due()

    assert [item["name"] for item in summary.executed] == ["flaky"]
    assert [(a, s) for a, s, _ in history(store)] == [(1, "failed"), (2, "succeeded")]
    [job] = store.list_jobs()
    assert job.metadata["execution_count"] == 1
    assert "last_error" not in job.metadata
    assert "error_count" not in job.metadata


def test_a_timed_out_attempt_is_retried(
    store: SqlStore, make_job: MakeJob, registry: JobRegistry, clock: FakeClock
) -> None:
    make_job("hang", max_attempts=2, retry_delay_seconds=1, timeout_seconds=30)
    clock.advance(timedelta(minutes=5))
    runner = Runner(store, registry, clock)
    runner.step(clock.now())
    clock.advance(timedelta(seconds=31))
    runner.wait(0)
    assert [(a, s) for a, s, _ in history(store)] == [(1, "timed_out"), (2, "pending")]


def test_an_abandoned_attempt_is_retried_by_another_worker(
    store: SqlStore, make_job: MakeJob, registry: JobRegistry, clock: FakeClock
) -> None:
    job = make_job("gate", max_attempts=2, retry_delay_seconds=1)
    GATES[job.id] = threading.Event()
    clock.advance(timedelta(minutes=5))
    dead = Runner(store, registry, clock, worker_id="dead", lease=timedelta(seconds=60))
    dead.step(clock.now())  # claimed and started; then the worker "dies" (never renews)
    assert [(a, s) for a, s, _ in history(store)] == [(1, "running")]

    clock.advance(timedelta(seconds=61))
    survivor = Runner(store, registry, clock, worker_id="alive")
    survivor.step(clock.now())
    assert [(a, s) for a, s, _ in history(store)] == [(1, "abandoned"), (2, "pending")]
    GATES[job.id].set()
    clock.advance(timedelta(seconds=1))
    survivor.run_due()
    dead.wait(5)  # the dead worker's late result is refused, not recorded over the abandoned run
    assert [(a, s) for a, s, _ in history(store)] == [(1, "abandoned"), (2, "succeeded")]
    [job] = store.list_jobs()
    assert job.metadata["execution_count"] == 1
    assert "error_count" not in job.metadata


def test_a_paused_jobs_retries_wait_until_it_is_resumed(
    store: SqlStore, manager: JobManager, make_job: MakeJob, registry: JobRegistry, clock: FakeClock
) -> None:
    job = make_job("boom", max_attempts=2, retry_delay_seconds=1)
    clock.advance(timedelta(minutes=5))
    runner = Runner(store, registry, clock)
    runner.run_due()
    manager.update_job(job.id, {"is_active": False}, SYSTEM)
    clock.advance(timedelta(seconds=2))
    assert runner.run_due().total == 0
    manager.update_job(job.id, {"is_active": True}, SYSTEM)
    runner.run_due()
    assert [(a, s) for a, s, _ in history(store)] == [(1, "failed"), (2, "failed")]


# --- manual runs ------------------------------------------------------------------------------


def test_a_manual_run_is_queued_then_run_by_the_next_worker_turn(
    store: SqlStore, manager: JobManager, make_job: MakeJob, registry: JobRegistry, clock: FakeClock
) -> None:
    job = make_job("flaky", metadata={"fail_times": 0}, is_active=False)  # paused, even
    run = manager.run_now(job.id, SYSTEM)
    assert run.status is RunStatus.PENDING
    assert run.trigger == "manual"
    assert manager.run_now(job.id, SYSTEM).id == run.id  # a second click queues nothing more
    assert store.earliest_next_run() == clock.now()  # a sleeping worker wakes for it

    summary = Runner(store, registry, clock).run_due()

    assert [item["name"] for item in summary.executed] == ["flaky"]
    [done] = manager.list_runs(job.id, SYSTEM).items
    assert (done.id, done.status, done.trigger, done.result) == (
        run.id,
        RunStatus.SUCCEEDED,
        "manual",
        {"calls": 1},
    )
    assert store.get_job(job.id).next_run == job.next_run  # the schedule is untouched


def test_a_manual_run_waits_while_the_job_is_running(
    store: SqlStore, manager: JobManager, make_job: MakeJob, registry: JobRegistry, clock: FakeClock
) -> None:
    job = make_job("gate")
    GATES[job.id] = threading.Event()
    clock.advance(timedelta(minutes=5))
    runner = Runner(store, registry, clock)
    runner.step(clock.now())
    manager.run_now(job.id, SYSTEM)
    runner.step(clock.now())
    assert sorted(s for _, s, _ in history(store)) == ["pending", "running"]
    GATES[job.id].set()
    runner.run_due()
    assert sorted(s for _, s, _ in history(store)) == ["succeeded", "succeeded"]


# --- a database outage ------------------------------------------------------------------------


@pytest.mark.postgres
def test_results_of_runs_that_end_during_an_outage_are_recorded_when_it_ends(
    postgres_url: str, postgres_admin_url: str, registry: JobRegistry, clock: FakeClock
) -> None:
    store = SqlStore.from_url(postgres_url)
    try:
        manager = JobManager(store, registry, clock)
        jobs = [create_job(manager, "gate") for _ in range(3)]
        for job in jobs:
            GATES[job.id] = threading.Event()
        clock.advance(timedelta(minutes=5))
        runner = Runner(store, registry, clock)
        runner.step(clock.now())
        database = sa.make_url(postgres_url).database

        with _outage(postgres_admin_url, database):
            for job in jobs:
                GATES[job.id].set()

            def all_three_ended() -> bool:
                with contextlib.suppress(sa.exc.OperationalError):
                    runner.wait(1)
                return runner.threads.free == runner.threads.size

            wait_until(all_three_ended, what="the three runs to end", interval=0)
            assert runner.unrecorded == 3
            with pytest.raises(sa.exc.OperationalError):  # each try to record them fails...
                runner.step(clock.now())
            assert runner.unrecorded == 3  # ...and none is dropped

        runner.wait(0)
        assert runner.unrecorded == 0
        assert [s for _, s, _ in history(store)] == ["succeeded"] * 3
    finally:
        store.close()


@contextlib.contextmanager
def _outage(admin_url: str, database: str | None) -> Iterator[None]:
    """The database refuses connections and its open ones are cut, until the block ends."""
    _admin(admin_url, f"ALTER DATABASE {database} ALLOW_CONNECTIONS false")
    try:
        _admin(
            admin_url,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{database}' AND pid <> pg_backend_pid()",
        )
        yield
    finally:
        _admin(admin_url, f"ALTER DATABASE {database} ALLOW_CONNECTIONS true")


def test_run_now_queues_a_fresh_run_even_while_a_retry_of_a_manual_run_waits(
    store: SqlStore, manager: JobManager, make_job: MakeJob, registry: JobRegistry, clock: FakeClock
) -> None:
    job = make_job("boom", max_attempts=2, retry_delay_seconds=3600)
    first = manager.run_now(job.id, SYSTEM)
    Runner(store, registry, clock).run_due()  # fails; its retry waits an hour or so
    clock.advance(timedelta(minutes=1))
    again = manager.run_now(job.id, SYSTEM)
    assert again.id != first.id
    assert (again.attempt, again.status, again.run_after) == (1, RunStatus.PENDING, clock.now())
    # newest first, by slot then attempt
    assert [(r.attempt, r.status) for r in manager.list_runs(job.id, SYSTEM).items] == [
        (1, RunStatus.PENDING),
        (2, RunStatus.PENDING),
        (1, RunStatus.FAILED),
    ]


def test_a_paused_jobs_waiting_retry_does_not_wake_idle_workers(
    store: SqlStore, manager: JobManager, make_job: MakeJob, registry: JobRegistry, clock: FakeClock
) -> None:
    job = make_job("boom", max_attempts=2, retry_delay_seconds=1)
    clock.advance(timedelta(minutes=5))
    Runner(store, registry, clock, jitter=lambda: 0.0).run_due()
    assert store.earliest_next_run() == clock.now() + timedelta(seconds=1)  # the retry
    manager.update_job(job.id, {"is_active": False}, SYSTEM)
    assert store.earliest_next_run() is None  # nothing can start: sleep the full interval


def test_a_claim_whose_lease_could_not_be_renewed_is_not_started(
    store: SqlStore, make_job: MakeJob, registry: JobRegistry, clock: FakeClock
) -> None:
    held = make_job("gate", priority=10)  # claimed first, and runs
    GATES[held.id] = threading.Event()
    make_job("flaky", metadata={"fail_times": 0})
    clock.advance(timedelta(minutes=5))
    runner = Runner(store, registry, clock, concurrency=1, prefetch=1, worker_id="cut-off")
    runner.step(clock.now())  # one runs, one waits for the slot
    # No turn of the loop for most of a lease (the database was unreachable): the waiting
    # claim's lease may lapse before it could start, so it must not start.
    clock.advance(timedelta(seconds=50))
    GATES[held.id].set()

    def slot_free() -> bool:
        runner.wait(0.1)
        return runner.threads.free >= 1

    wait_until(slot_free, what="the held run to end", interval=0)
    runner.flush()
    clock.advance(timedelta(seconds=11))
    Runner(store, registry, clock, worker_id="other").step(clock.now())  # sweeps
    assert sorted(s for _, s, _ in history(store)) == ["abandoned", "succeeded"]
