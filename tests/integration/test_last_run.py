"""A job's last run is the last run that ran (whatever started it), with its status and the
slots missed since: kept on the job's row where runs start and end, on both databases."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from cronbase.jobs import Job
from cronbase.manager import SYSTEM, JobManager
from cronbase.registry import JobContext, JobRegistry
from cronbase.runner import Runner
from cronbase.runner.outcomes import build_outcome
from cronbase.runner.planning import plan_slots
from cronbase.store import SqlStore, last_outcome
from cronbase.testing import FakeClock
from tests.helpers import MakeJob, wait_for_runs_to_end

T0 = datetime(2025, 1, 15, 10, 30, tzinfo=UTC)


@pytest.fixture
def registry(gate: threading.Event) -> JobRegistry:
    registry = JobRegistry()
    calls: dict[str, int] = {}

    @registry.job("note")
    def note(_ctx: JobContext) -> dict[str, Any]:
        return {}

    @registry.job("flaky")
    def flaky(ctx: JobContext) -> dict[str, Any]:
        calls[str(ctx.job_id)] = calls.get(str(ctx.job_id), 0) + 1
        if calls[str(ctx.job_id)] == 1:
            raise ConnectionError("the first attempt fails")
        return {}

    @registry.job("wait")
    def wait(_ctx: JobContext) -> dict[str, Any]:
        gate.wait(30)
        return {}

    return registry


@pytest.fixture
def runner(store: SqlStore, registry: JobRegistry, clock: FakeClock) -> Runner:
    return Runner(store, registry, clock, jitter=lambda: 0.0)


def last(store: SqlStore, job: Job) -> tuple[datetime | None, str | None, int]:
    stored = store.get_job(job.id)
    assert stored is not None
    return stored.last_run, stored.last_status, stored.missed_since_last_run


def test_a_new_job_has_no_last_run(make_job: MakeJob, store: SqlStore) -> None:
    job = make_job("note")
    assert last(store, job) == (None, None, 0)
    assert {"last_status": None, "missed_since_last_run": 0}.items() <= job.to_dict().items()


def test_a_scheduled_run_is_the_last_run_with_its_outcome(
    store: SqlStore, runner: Runner, clock: FakeClock, make_job: MakeJob
) -> None:
    ok, bad = make_job("note"), make_job("flaky")
    clock.set(T0 + timedelta(minutes=5, seconds=3))
    runner.run_due()
    assert last(store, ok) == (clock.now(), "succeeded", 0)
    assert last(store, bad) == (clock.now(), "failed", 0)


def test_a_manual_run_is_the_last_run_too(
    store: SqlStore, runner: Runner, clock: FakeClock, make_job: MakeJob, manager: JobManager
) -> None:
    job = make_job("note", schedule="daily")
    clock.advance(timedelta(minutes=3))
    manager.run_now(job.id, SYSTEM)
    runner.run_due()
    assert last(store, job) == (clock.now(), "succeeded", 0)


def test_a_retry_is_the_last_run_once_it_starts(
    store: SqlStore, runner: Runner, clock: FakeClock, make_job: MakeJob
) -> None:
    job = make_job("flaky", max_attempts=2, retry_delay_seconds=10)
    clock.set(T0 + timedelta(minutes=5))
    runner.run_due()
    first = clock.now()
    assert last(store, job) == (first, "failed", 0)  # its retry waits: the failure shows
    clock.advance(timedelta(seconds=10))
    runner.run_due()
    assert last(store, job) == (clock.now(), "succeeded", 0)


def test_missed_slots_count_until_a_run_starts(
    store: SqlStore, runner: Runner, clock: FakeClock, make_job: MakeJob
) -> None:
    job = make_job("note", misfire_policy="skip")
    clock.set(T0 + timedelta(minutes=5))
    runner.run_due()
    ran_at = clock.now()
    clock.set(T0 + timedelta(minutes=17, seconds=30))  # 10:40 and 10:45 passed, too late
    runner.run_due()
    assert last(store, job) == (ran_at, "succeeded", 2)
    clock.set(T0 + timedelta(minutes=27, seconds=30))  # 10:50 and 10:55: two more
    runner.run_due()
    assert last(store, job) == (ran_at, "succeeded", 4)
    clock.set(T0 + timedelta(minutes=30, seconds=10))  # 11:00, on time, runs
    runner.run_due()
    assert last(store, job) == (clock.now(), "succeeded", 0)


def test_a_coalesced_run_after_an_outage_is_the_last_run_and_nothing_is_missed_since(
    store: SqlStore, runner: Runner, clock: FakeClock, make_job: MakeJob
) -> None:
    job = make_job("note", schedule="every_1_minutes")
    clock.set(T0 + timedelta(minutes=4, seconds=40))
    runner.run_due()
    assert last(store, job) == (clock.now(), "succeeded", 0)


def test_a_run_going_is_the_last_run_and_an_older_one_ending_does_not_replace_it(
    store: SqlStore, runner: Runner, clock: FakeClock, make_job: MakeJob, gate: threading.Event
) -> None:
    job = make_job("wait", overlap_policy="allow")
    clock.set(T0 + timedelta(minutes=5))
    runner.step(clock.now())
    clock.set(T0 + timedelta(minutes=10))
    runner.step(clock.now())
    second = clock.now()
    assert last(store, job) == (second, "running", 0)
    gate.set()
    wait_for_runs_to_end(runner)
    assert last(store, job) == (second, "succeeded", 0)


def test_an_older_run_ending_later_leaves_the_last_run_but_still_counts(
    store: SqlStore, clock: FakeClock, make_job: MakeJob
) -> None:
    job = make_job("note", overlap_policy="allow")
    clock.set(T0 + timedelta(minutes=5))
    [older], _ = store.claim_due(clock.now(), "w", plan_slots, 10)
    clock.set(T0 + timedelta(minutes=10))
    [newer], _ = store.claim_due(clock.now(), "w", plan_slots, 10)
    ended = clock.now() + timedelta(seconds=1)
    store.record_outcomes([build_outcome(newer, clock.now(), ended, {}, None, 0.0)])
    failed = ValueError("late")
    older_started = T0 + timedelta(minutes=5)
    store.record_outcomes([build_outcome(older, older_started, ended, None, failed, 0.0)])
    assert last(store, job) == (clock.now(), "succeeded", 0)
    stored = store.get_job(job.id)
    assert stored is not None
    assert (stored.metadata["execution_count"], stored.metadata["error_count"]) == (2, 1)


def test_a_claim_handed_back_unstarted_leaves_the_last_run_as_it_was(
    store: SqlStore, registry: JobRegistry, clock: FakeClock, make_job: MakeJob
) -> None:
    job = make_job("note")
    clock.set(T0 + timedelta(minutes=5))
    Runner(store, registry, clock).run_due()
    before = last(store, job)
    clock.set(T0 + timedelta(minutes=10))
    [claim], _ = store.claim_due(clock.now(), "w", plan_slots, 10)
    assert last(store, job)[1] == "running"
    store.release_runs([claim.run_id], "w", clock.now())
    assert last(store, job) == before


def test_the_migration_fills_the_columns_from_the_history(store: SqlStore) -> None:
    """An installation from before: last_run was the last scheduled claim; the upgrade (its
    last_outcome.refresh) sets the last run that ran (a later manual run here), its status
    and the missed slots since. Rows written as the old schema had them: no last_status."""
    job_id, idle_id = uuid.uuid4(), uuid.uuid4()
    with store.transaction() as conn:
        for one, last_run in ((job_id, "2025-01-15 10:35:00"), (idle_id, "2025-01-01 00:00:00")):
            conn.execute(
                sa.text(
                    "INSERT INTO cron_job (id, name, schedule, function_name, last_run, next_run) "
                    "VALUES (:id, 'old', 'every_5_minutes', 'note', :last_run, :next_run)"
                ),
                {"id": _id(store, one), "last_run": last_run, "next_run": "2025-01-15 11:00:00"},
            )
        runs = [  # (slot, started, finished, status, trigger, result)
            ("10:35", "10:35", "10:35", "succeeded", "schedule", None),
            ("10:38", "10:38", "10:39", "failed", "manual", None),
            ("10:40", None, "10:50", "missed", "schedule", '{"missed_slots": 2}'),
            ("10:50", None, "10:50", "pending", "schedule", None),
            ("10:55", None, "10:57", "missed", "schedule", '{"missed_slots": 1}'),
        ]
        for slot, started, finished, status, trigger, result in runs:
            conn.execute(
                sa.text(
                    "INSERT INTO cron_job_run (id, job_id, scheduled_for, started_at, finished_at,"
                    ' status, "trigger", result) VALUES (:id, :job_id, :slot, :started,'
                    " :finished, :status, :trigger, :result)"
                ),
                {
                    "id": _id(store, uuid.uuid4()),
                    "job_id": _id(store, job_id),
                    "slot": _at(slot),
                    "started": started and _at(started),
                    "finished": _at(finished),
                    "status": status,
                    "trigger": trigger,
                    "result": result,
                },
            )
    with store.transaction() as conn:
        last_outcome.refresh(conn, keep_unknown=True)  # what migration 0010 runs
    job, idle = store.get_job(job_id), store.get_job(idle_id)
    assert job is not None
    assert (job.last_run, job.last_status, job.missed_since_last_run) == (
        datetime(2025, 1, 15, 10, 38, tzinfo=UTC),
        "failed",
        3,
    )
    assert idle is not None  # nothing in its history ran: its last_run stays
    assert (idle.last_run, idle.last_status) == (datetime(2025, 1, 1, tzinfo=UTC), None)


def _at(hh_mm: str) -> str:
    return f"2025-01-15 {hh_mm}:00.000000"


def _id(store: SqlStore, value: uuid.UUID) -> str:
    return value.hex if store.dialect == "sqlite" else str(value)
