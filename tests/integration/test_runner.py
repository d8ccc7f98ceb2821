"""run_due on a real store: one run per due slot, the seed's summary, monitoring keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from cronbase.registry import JobContext, JobRegistry
from cronbase.runner import Runner, Worker
from cronbase.runner.policy import CLAIM_EARLY_SECONDS
from cronbase.store import SqlStore
from cronbase.store.tables import cron_job, cron_job_run, tenants
from cronbase.testing import FakeClock
from tests.helpers import MakeJob, run_history, wait_for_runs_to_end


@pytest.fixture
def calls() -> list[JobContext]:
    return []


@pytest.fixture
def registry(calls: list[JobContext]) -> JobRegistry:
    registry = JobRegistry()

    @registry.job("record", description="Remember the call.")
    def record(ctx: JobContext) -> dict[str, Any]:
        calls.append(ctx)
        return {"seen": len(calls)}

    @registry.job("explode")
    def explode(ctx: JobContext) -> dict[str, Any]:
        ctx.connection.execute(tenants.insert().values(name="written before the error"))
        raise RuntimeError("the disk is on fire")

    @registry.job("not_a_dict")
    def not_a_dict(_ctx: JobContext) -> Any:
        return ["a", "list"]

    return registry


@pytest.fixture
def runner(store: SqlStore, registry: JobRegistry, clock: FakeClock) -> Runner:
    return Runner(store, registry, clock, worker_id="test-worker")


def test_a_new_job_is_scheduled_for_its_next_slot(make_job: MakeJob) -> None:
    job = make_job("record", schedule="hourly")
    assert job.next_run == datetime(2025, 1, 15, 11, 0, tzinfo=UTC)
    assert job.last_run is None


def test_a_due_job_runs_once_and_its_run_is_recorded(
    store: SqlStore, runner: Runner, clock: FakeClock, make_job: MakeJob, calls: list[JobContext]
) -> None:
    job = make_job("record", name="Mark Users Offline", metadata={"timeout_minutes": 5})
    clock.set(datetime(2025, 1, 15, 10, 35, 20, tzinfo=UTC))

    summary = runner.run_due().to_dict()

    assert summary["summary"] == {"total": 1, "executed": 1, "skipped": 0, "failed": 0}
    assert summary["executed"] == [
        {
            "id": str(job.id),
            "name": "Mark Users Offline",
            "function_name": "record",
            "next_run": "2025-01-15T10:40:00Z",
            "executed_at": "2025-01-15T10:35:20Z",
        }
    ]
    assert summary["failed"] == []
    [ctx] = calls
    assert ctx.job_id == job.id
    assert ctx.metadata == {"timeout_minutes": 5}
    assert ctx.scheduled_for == datetime(2025, 1, 15, 10, 35, tzinfo=UTC)
    [run] = run_history(store)
    assert run.status == "succeeded"
    assert run.scheduled_for == datetime(2025, 1, 15, 10, 35, tzinfo=UTC)
    assert run.started_at == run.finished_at == clock.now()
    assert run.result == {"seen": 1}
    assert run.worker_id == "test-worker"
    assert run.trigger == "schedule"
    stored = store.get_job(job.id)
    assert stored is not None
    assert stored.last_run == clock.now()
    assert stored.next_run == datetime(2025, 1, 15, 10, 40, tzinfo=UTC)
    assert stored.metadata == {
        "timeout_minutes": 5,
        "last_execution": "2025-01-15T10:35:20Z",
        "execution_count": 1,
    }

    again = runner.run_due().to_dict()
    assert again["summary"] == {"total": 0, "executed": 0, "skipped": 0, "failed": 0}
    assert len(calls) == 1


def test_jobs_that_are_not_due_or_not_active_do_not_run(
    runner: Runner, clock: FakeClock, make_job: MakeJob, calls: list[JobContext]
) -> None:
    make_job("record", schedule="hourly")
    make_job("record", is_active=False)
    clock.advance(timedelta(minutes=20))
    assert runner.run_due().total == 0
    assert calls == []


def test_missed_slots_coalesce_into_one_run_of_the_latest_slot(
    store: SqlStore, runner: Runner, clock: FakeClock, make_job: MakeJob
) -> None:
    job = make_job("record")
    clock.advance(timedelta(hours=3, minutes=2))  # 36 slots of five minutes went by

    assert runner.run_due().to_dict()["summary"]["executed"] == 1
    missed, ran = run_history(store)
    assert (ran.status, ran.scheduled_for) == (
        "succeeded",
        datetime(2025, 1, 15, 13, 30, tzinfo=UTC),
    )
    assert missed.status == "missed"  # the 35 earlier slots, recorded in one row
    assert missed.scheduled_for == job.next_run
    assert missed.result == {
        "missed_slots": 35,
        "more": False,
        "first": "2025-01-15T10:35:00Z",
        "last": "2025-01-15T13:25:00Z",
    }
    stored = store.get_job(job.id)
    assert stored is not None
    assert stored.next_run == datetime(2025, 1, 15, 13, 35, tzinfo=UTC)


def test_an_every_minute_job_after_a_worker_outage_runs_its_newest_slot(
    store: SqlStore,
    runner: Runner,
    clock: FakeClock,
    make_job: MakeJob,
    calls: list[JobContext],
) -> None:
    """The case of the issue: the worker was down for more than two slots of an every-minute
    coalesce job; the run that happens stands for the newest slot, and the history's newest
    row (what a list shows as the last run) is that run, not a `missed` one."""
    job = make_job("record", schedule="every_1_minutes")
    clock.set(datetime(2025, 1, 15, 10, 31, 5, tzinfo=UTC))
    runner.run_due()  # the 10:31 slot runs while the worker is up
    clock.set(datetime(2025, 1, 15, 10, 34, 40, tzinfo=UTC))  # down over 10:32, 10:33, 10:34

    assert runner.run_due().to_dict()["summary"]["executed"] == 1

    assert [ctx.scheduled_for for ctx in calls] == [
        datetime(2025, 1, 15, 10, 31, tzinfo=UTC),
        datetime(2025, 1, 15, 10, 34, tzinfo=UTC),
    ]
    history = [(r.scheduled_for.strftime("%H:%M"), r.status) for r in run_history(store)]
    assert history == [("10:31", "succeeded"), ("10:32", "missed"), ("10:34", "succeeded")]
    missed = run_history(store)[1]
    assert (missed.result["missed_slots"], missed.result["last"]) == (2, "2025-01-15T10:33:00Z")
    stored = store.get_job(job.id)
    assert stored is not None
    assert stored.last_run == clock.now()
    assert stored.next_run == datetime(2025, 1, 15, 10, 35, tzinfo=UTC)


def test_a_failing_job_is_recorded_and_the_others_still_run(
    store: SqlStore, runner: Runner, clock: FakeClock, make_job: MakeJob, calls: list[JobContext]
) -> None:
    bad = make_job("explode", name="Bad")
    make_job("record", name="Good")
    clock.advance(timedelta(minutes=5))

    summary = runner.run_due().to_dict()

    assert summary["summary"] == {"total": 2, "executed": 1, "skipped": 0, "failed": 1}
    assert summary["failed"] == [
        {"id": str(bad.id), "name": "Bad", "error": "RuntimeError: the disk is on fire"}
    ]
    assert len(calls) == 1
    with store.transaction() as conn:  # the failed job's own writes were rolled back
        assert conn.execute(sa.select(sa.func.count()).select_from(tenants)).scalar() == 0
    failed_run = next(run for run in run_history(store) if run.job_id == bad.id)
    assert failed_run.status == "failed"
    assert failed_run.error == "RuntimeError: the disk is on fire"
    stored = store.get_job(bad.id)
    assert stored is not None
    assert stored.metadata["last_error"] == "RuntimeError: the disk is on fire"
    assert stored.metadata["error_count"] == 1
    assert stored.next_run == datetime(2025, 1, 15, 10, 40, tzinfo=UTC)


def test_a_success_clears_last_error_but_keeps_error_count(
    store: SqlStore, runner: Runner, clock: FakeClock, make_job: MakeJob
) -> None:
    job = make_job("explode")
    clock.advance(timedelta(minutes=5))
    runner.run_due()
    with store.transaction() as conn:
        conn.execute(cron_job.update().values(function_name="record"))
    clock.advance(timedelta(minutes=5))
    runner.run_due()

    stored = store.get_job(job.id)
    assert stored is not None
    assert "last_error" not in stored.metadata
    assert stored.metadata["error_count"] == 1
    assert stored.metadata["execution_count"] == 2


def test_an_unregistered_function_fails_with_a_clear_error(
    store: SqlStore, runner: Runner, clock: FakeClock, make_job: MakeJob
) -> None:
    job = make_job("record")
    with store.transaction() as conn:  # as if written by hand, bypassing validation
        conn.execute(cron_job.update().values(function_name="noSuchJob"))
    clock.advance(timedelta(minutes=5))

    [failure] = runner.run_due().failed

    assert failure["id"] == str(job.id)
    assert "'noSuchJob'" in failure["error"]
    assert "registered" in failure["error"]
    assert "CRONBASE_JOB_MODULES" in failure["error"]


def test_a_stored_schedule_that_is_invalid_fails_and_stops_the_job(
    store: SqlStore, runner: Runner, clock: FakeClock, make_job: MakeJob
) -> None:
    job = make_job("record")
    with store.transaction() as conn:
        conn.execute(cron_job.update().values(schedule="every_7_minutes"))
    clock.advance(timedelta(minutes=5))

    [failure] = runner.run_due().failed

    assert "every_7_minutes" in failure["error"]
    stored = store.get_job(job.id)
    assert stored is not None
    assert stored.next_run is None  # not due again until someone fixes the schedule
    clock.advance(timedelta(minutes=5))
    assert runner.run_due().total == 0


def test_a_result_that_is_not_a_dict_fails_the_run(
    runner: Runner, clock: FakeClock, make_job: MakeJob
) -> None:
    make_job("not_a_dict")
    clock.advance(timedelta(minutes=5))
    [failure] = runner.run_due().failed
    assert "returned list" in failure["error"]
    assert "JSON-serialisable dict" in failure["error"]


def test_a_slot_that_already_has_a_run_is_not_run_again(
    store: SqlStore, runner: Runner, clock: FakeClock, make_job: MakeJob, calls: list[JobContext]
) -> None:
    job = make_job("record")
    slot = datetime(2025, 1, 15, 10, 35, tzinfo=UTC)
    with store.transaction() as conn:  # another instance ran this slot already
        conn.execute(
            cron_job_run.insert().values(
                job_id=job.id, scheduled_for=slot, status="succeeded", worker_id="other"
            )
        )
    clock.advance(timedelta(minutes=5))

    summary = runner.run_due().to_dict()

    assert summary["summary"] == {"total": 1, "executed": 0, "skipped": 1, "failed": 0}
    assert calls == []
    assert len(run_history(store)) == 1
    stored = store.get_job(job.id)
    assert stored is not None
    assert stored.next_run == datetime(2025, 1, 15, 10, 40, tzinfo=UTC)


def test_jobs_follow_their_time_zone(
    runner: Runner, clock: FakeClock, make_job: MakeJob, calls: list[JobContext]
) -> None:
    job = make_job("record", schedule="daily", timezone="Europe/Berlin")
    assert job.next_run == datetime(2025, 1, 15, 23, 0, tzinfo=UTC)  # Berlin midnight, CET
    clock.set(datetime(2025, 1, 15, 23, 0, tzinfo=UTC))
    [executed] = runner.run_due().executed
    assert executed["next_run"] == "2025-01-16T23:00:00Z"
    assert len(calls) == 1


def test_a_stop_request_claims_nothing_more_and_lets_runs_in_progress_end(
    store: SqlStore,
    registry: JobRegistry,
    clock: FakeClock,
    make_job: MakeJob,
    calls: list[JobContext],
) -> None:
    for i in range(3):
        make_job("record", name=f"job {i}")
    clock.advance(timedelta(minutes=5))
    runner = Runner(store, registry, clock, concurrency=1, prefetch=1)

    summary = runner.run_due(should_stop=lambda: len(calls) >= 1)

    assert len(summary.executed) == 1
    assert summary.skipped == 2
    # The worker had claimed one job ahead (prefetch=1); it gives that claim back unstarted, as
    # a pending run any worker takes, and leaves the third job due.
    assert sorted(run.status for run in run_history(store)) == ["pending", "succeeded"]
    assert len(store.due_jobs(clock.now())) == 1
    assert len(Runner(store, registry, clock).run_due().executed) == 2
    assert sorted(run.status for run in run_history(store)) == ["succeeded"] * 3


def test_the_worker_sleeps_until_the_next_slot_but_never_longer_than_its_cap(
    store: SqlStore, runner: Runner, clock: FakeClock, make_job: MakeJob, calls: list[JobContext]
) -> None:
    worker = Worker(runner, clock, max_sleep=5.0)
    assert worker.tick() == 5.0  # nothing scheduled: look again after the cap

    make_job("record", schedule="every_5_minutes")  # due at 10:35
    clock.set(datetime(2025, 1, 15, 10, 34, 57, 876544, tzinfo=UTC))
    # Until the turn that claims it ahead (see runner/ahead.py), to the microsecond.
    assert worker.tick() == pytest.approx(2.123456 - CLAIM_EARLY_SECONDS, abs=1e-6)
    assert calls == []

    clock.set(datetime(2025, 1, 15, 10, 35, tzinfo=UTC))
    assert worker.tick() == 5.0  # started the job; the next slot is five minutes away
    wait_for_runs_to_end(runner)
    assert len(calls) == 1
    assert [run.status for run in run_history(store)] == ["succeeded"]


def test_round_after_round_each_slot_runs_once(
    store: SqlStore, runner: Runner, clock: FakeClock, make_job: MakeJob, calls: list[JobContext]
) -> None:
    # Enough rounds on one pooled connection for psycopg to switch to prepared statements,
    # which once broke the ON CONFLICT clause of the claim.
    make_job("record")
    for _ in range(12):
        clock.advance(timedelta(minutes=5))
        assert len(runner.run_due().executed) == 1
    assert len(calls) == 12
    assert len({run.scheduled_for for run in run_history(store)}) == 12


def test_a_round_of_run_due_leaves_the_workers_stop_in_charge(
    store: SqlStore,
    registry: JobRegistry,
    clock: FakeClock,
    make_job: MakeJob,
    calls: list[JobContext],
) -> None:
    runner = Runner(store, registry, clock)
    worker = Worker(runner, clock)
    runner.run_due(should_stop=lambda: False)  # its own stop condition, for this round only
    make_job("record")
    clock.advance(timedelta(minutes=5))

    worker.stop.set()
    assert runner.step(clock.now()) == 1  # claimed, but a stopping worker starts nothing
    assert runner.threads.free == runner.threads.size  # nothing started
    runner.wait(0)
    assert calls == []
    runner.release_queued()
    assert [run.status for run in run_history(store)] == ["pending"]
    assert len(runner.run_due(should_stop=lambda: False).executed) == 0  # still stopping


def test_what_a_run_leaves_is_capped_so_one_run_cannot_fill_the_history(
    store: SqlStore, registry: JobRegistry, runner: Runner, clock: FakeClock, make_job: MakeJob
) -> None:
    @registry.job("verbose_failure")
    def verbose_failure(_ctx: JobContext) -> dict[str, Any]:
        raise ValueError("start of the story " + "x" * 1_000_000 + " the real cause")

    @registry.job("huge_result")
    def huge_result(_ctx: JobContext) -> dict[str, Any]:
        return {"blob": "y" * 1_000_000}

    @registry.job("deep_result")
    def deep_result(_ctx: JobContext) -> dict[str, Any]:
        value: dict[str, Any] = {}
        for _ in range(300):
            value = {"a": value}
        return value

    failing = make_job("verbose_failure", name="Failing")
    make_job("huge_result", name="Huge")
    make_job("deep_result", name="Deep")
    clock.advance(timedelta(minutes=5))

    summary = runner.run_due().to_dict()["summary"]

    assert summary == {"total": 3, "executed": 2, "skipped": 0, "failed": 1}
    by_status = {row.status: row for row in run_history(store) if row.status == "failed"}
    error = by_status["failed"].error
    assert len(error.encode()) <= 64 * 1024
    assert error.startswith("ValueError: start of the story")
    assert error.endswith("the real cause")
    assert "bytes cut: the text was 1,000,046 bytes" in error
    results = [row.result for row in run_history(store) if row.status == "succeeded"]
    notes = sorted(result["result_cut"] for result in results)
    assert notes[0].startswith("the job's result is 1,000,011 bytes as JSON; at most 65,536")
    assert notes[1].startswith("the job's result nests 301 levels deep; at most 32")
    last_error = store.get_job(failing.id).metadata["last_error"]  # type: ignore[union-attr]
    assert len(last_error.encode()) <= 2048
    assert last_error.endswith("the real cause")
