""" "Why didn't it run?" on a real store, both databases: the facts the manager gathers after
real runs, retries, missed and skipped slots, with and without workers."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from cronbase.auth import Principal, Role
from cronbase.manager import SYSTEM, JobManager
from cronbase.registry import JobRegistry
from cronbase.runner import Runner
from cronbase.schedule import jitter_offset, parse_schedule
from cronbase.store import SqlStore
from cronbase.store.tables import cron_job
from cronbase.store.workers import WorkerStore
from cronbase.testing import FakeClock
from tests.helpers import MakeJob, note_long_boom_registry, wait_for_runs_to_end

GRACE = timedelta(seconds=600)


@pytest.fixture
def registry(gate: threading.Event) -> JobRegistry:
    return note_long_boom_registry(gate)


def state(manager: JobManager, job_id: Any, caller: Principal = SYSTEM) -> str:
    return manager.explain(job_id, caller).state.value


def test_scheduled_due_then_overdue_with_and_without_workers(
    manager: JobManager, store: SqlStore, clock: FakeClock, make_job: MakeJob
) -> None:
    job = make_job("note", timezone="America/New_York")  # every 5 minutes: next_run 10:35
    assert job.next_run is not None
    found = manager.explain(job.id, SYSTEM).to_dict()
    assert found["state"] == "scheduled"
    assert [t["utc"] for t in found["next_runs"]] == [
        "2025-01-15T10:35:00Z",
        "2025-01-15T10:40:00Z",
        "2025-01-15T10:45:00Z",
        "2025-01-15T10:50:00Z",
        "2025-01-15T10:55:00Z",
    ]
    assert found["next_runs"][0]["local"] == "2025-01-15T05:35:00-05:00"
    clock.set(job.next_run)
    assert state(manager, job.id) == "due"
    clock.set(job.next_run + GRACE + timedelta(seconds=1))
    # the same jobs as the overdue alerts and `cronbase status` see
    assert [j.id for j in manager.overdue_jobs(SYSTEM)] == [job.id]
    assert state(manager, job.id) == "overdue_no_worker"
    WorkerStore(store.engine).register("w-1", "host-a", 7, clock.now())
    found = manager.explain(job.id, SYSTEM).to_dict()
    assert found["state"] == "overdue_workers_busy"
    assert found["workers"] == {"alive": 1, "hosts": [{"id": "w-1", "host": "host-a", "pid": 7}]}
    assert found["overdue_since"] == "2025-01-15T10:45:00Z"


def test_a_tenant_admin_sees_how_many_workers_live_not_their_hosts(
    manager: JobManager, store: SqlStore, clock: FakeClock, make_job: MakeJob, make_tenant: Any
) -> None:
    acme = make_tenant("Acme")
    job = make_job("note", tenant_id=acme)
    WorkerStore(store.engine).register("w-1", "host-a", 7, clock.now())
    admin = Principal("ops@acme.test", Role.ADMIN, acme)
    assert manager.explain(job.id, admin).to_dict()["workers"] == {"alive": 1, "hosts": None}


def test_a_failed_run_with_attempts_left_is_retry_pending_until_the_retry_starts(
    manager: JobManager, store: SqlStore, registry: JobRegistry, clock: FakeClock, make_job: MakeJob
) -> None:
    job = make_job("boom", max_attempts=3, retry_delay_seconds=3600)
    assert job.next_run is not None
    clock.set(job.next_run)
    runner = Runner(store, registry, clock, jitter=lambda: 0.0)
    runner.step(clock.now())
    wait_for_runs_to_end(runner)
    found = manager.explain(job.id, SYSTEM).to_dict()
    assert found["state"] == "retry_pending"
    assert found["retry_at"] == "2025-01-15T11:35:00Z"
    assert found["pending_runs"] == [
        {"run_after": "2025-01-15T11:35:00Z", "attempt": 2, "trigger": "schedule"}
    ]
    assert found["last_status"] == "failed"
    assert found["last_run"] == "2025-01-15T10:35:00Z"
    assert "attempt 2 of 3" in found["summary"]


def test_missed_slots_name_the_misfire_policy_and_overlap_skips_are_counted(
    manager: JobManager,
    store: SqlStore,
    registry: JobRegistry,
    clock: FakeClock,
    make_job: MakeJob,
    gate: threading.Event,
) -> None:
    job = make_job("long", schedule="every_1_minutes", misfire_policy="coalesce")
    assert job.next_run is not None
    clock.set(job.next_run + timedelta(minutes=3, seconds=10))  # the worker was down
    runner = Runner(store, registry, clock)
    runner.step(clock.now())  # one run for the latest slot; the earlier ones are missed
    found = manager.explain(job.id, SYSTEM).to_dict()
    assert found["state"] == "running"
    assert found["running"] == 1
    assert "misfire policy coalesce" in found["last_missed"]["reason"]
    clock.advance(timedelta(minutes=1))
    runner.step(clock.now())  # the next slot comes due while the run goes on: skipped
    found = manager.explain(job.id, SYSTEM).to_dict()
    assert found["skipped_since_last_run"] == 1
    assert found["overlap_policy"] == "skip"
    assert any("skipped" in line for line in found["details"])
    gate.set()
    wait_for_runs_to_end(runner)
    assert manager.explain(job.id, SYSTEM).to_dict()["last_status"] == "succeeded"


def test_paused_on_demand_waiting_and_invalid_schedule(
    manager: JobManager, store: SqlStore, make_job: MakeJob
) -> None:
    paused = make_job("note", name="Paused", is_active=False)
    assert state(manager, paused.id) == "paused"
    by_hand = make_job("note", name="By hand", schedule="on_demand")
    assert state(manager, by_hand.id) == "on_demand"
    assert manager.explain(by_hand.id, SYSTEM).next_runs == []
    after = make_job(
        "note", name="After", schedule="on_demand", depends_on=[{"job_id": str(by_hand.id)}]
    )
    assert state(manager, after.id) == "waiting_for_dependencies"
    broken = make_job("note", name="Broken")
    with store.transaction() as conn:  # as plain SQL or an older version may have left it
        conn.execute(
            sa.update(cron_job).where(cron_job.c.id == broken.id).values(schedule="cron:99 * * * *")
        )
    found = manager.explain(broken.id, SYSTEM).to_dict()
    assert found["state"] == "invalid_schedule"
    assert found["schedule_error"]
    assert found["next_runs"] == []


def test_the_next_runs_are_the_real_times_with_the_jobs_jitter(
    manager: JobManager, make_job: MakeJob
) -> None:
    # Ids are random and a zero offset would prove nothing: one in 1,800 jobs has it, so
    # make another in that case.
    for attempt in range(3):
        job = make_job("note", name=f"note {attempt}", schedule="hourly", jitter_seconds=1800)
        offset = jitter_offset(job.id, 1800, parse_schedule("hourly"))
        if offset > timedelta(0):
            break
    assert offset > timedelta(0)
    times = manager.explain(job.id, SYSTEM).next_runs
    assert times[0] == job.next_run
    assert times == [datetime(2025, 1, 15, 11 + hour, tzinfo=UTC) + offset for hour in range(5)]
