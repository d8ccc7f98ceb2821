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
from cronbase.runner import Runner, Worker
from cronbase.schedule import jitter_offset, parse_schedule
from cronbase.store import SqlStore
from cronbase.store.tables import cron_job, cron_job_run
from cronbase.store.workers import WorkerStore
from cronbase.testing import FakeClock
from tests.helpers import MakeJob, note_long_boom_registry, wait_for_runs_to_end, wait_until

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
    assert found["workers"] == {
        "alive": 1,
        "threads": None,  # a worker that did not say how many runs it may run
        "running": 0,
        "free_slots": None,
        "hosts": [
            {
                "id": "w-1",
                "host": "host-a",
                "pid": 7,
                "threads": None,
                "running": 0,
                "free_slots": None,
            }
        ],
    }
    assert found["overdue_since"] == "2025-01-15T10:45:00Z"


def test_a_tenant_admin_sees_how_many_workers_live_not_their_hosts(
    manager: JobManager, store: SqlStore, clock: FakeClock, make_job: MakeJob, make_tenant: Any
) -> None:
    acme = make_tenant("Acme")
    job = make_job("note", tenant_id=acme)
    WorkerStore(store.engine).register("w-1", "host-a", 7, clock.now())
    admin = Principal("ops@acme.test", Role.ADMIN, acme)
    workers = manager.explain(job.id, admin).to_dict()["workers"]
    assert (workers["alive"], workers["hosts"]) == (1, None)


def test_live_workers_free_slots_tell_whether_an_overdue_job_waits_for_a_slot(
    manager: JobManager,
    store: SqlStore,
    clock: FakeClock,
    make_job: MakeJob,
    make_tenant: Any,
    insert_rows: Any,
) -> None:
    acme = make_tenant("Acme")
    job = make_job("note", tenant_id=acme)
    busy = make_job("note", name="long")
    assert job.next_run is not None
    clock.set(job.next_run + GRACE + timedelta(seconds=1))
    workers = WorkerStore(store.engine)
    workers.register("w-1", "host-a", 7, clock.now(), threads=2)
    workers.register("w-2", "host-b", 8, clock.now(), threads=1)
    # Every slot taken: w-1 holds two runs, w-2 one (a finished run of w-2 does not count).
    insert_rows(
        cron_job_run,
        [
            _run(busy.id, clock.now() - timedelta(minutes=i), "w-1" if i < 2 else "w-2", status)
            for i, status in enumerate(["running", "running", "running", "succeeded"])
        ],
    )
    admin = Principal("ops@acme.test", Role.ADMIN, acme)
    found = manager.explain(job.id, admin).to_dict()
    assert found["state"] == "overdue_workers_busy"
    assert "all 3 slot(s) of its 2 live workers are taken by running jobs" in found["summary"]
    assert found["workers"] == {
        "alive": 2,
        "threads": 3,
        "running": 3,
        "free_slots": 0,
        "hosts": None,  # a tenant admin sees counts, not hosts
    }

    with store.transaction() as conn:
        conn.execute(
            cron_job_run.update()
            .where(cron_job_run.c.worker_id == "w-1", cron_job_run.c.status == "running")
            .values(status="succeeded")
        )
    found = manager.explain(job.id, SYSTEM).to_dict()
    assert found["state"] == "overdue_workers_busy"
    assert "its 2 live workers have 2 free slots: none claimed it" in found["summary"]
    hosts = {
        w["host"]: (w["threads"], w["running"], w["free_slots"]) for w in found["workers"]["hosts"]
    }
    assert hosts == {"host-a": (2, 0, 2), "host-b": (1, 1, 0)}


def _run(job_id: Any, started: datetime, worker: str, status: str) -> dict[str, Any]:
    return {
        "job_id": job_id,
        "scheduled_for": started,
        "started_at": started,
        "status": status,
        "worker_id": worker,
        "trigger": "manual",
    }


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


def test_a_worker_says_how_many_runs_it_may_run_at_once(
    manager: JobManager, store: SqlStore, registry: JobRegistry, clock: FakeClock
) -> None:
    worker = Worker(Runner(store, registry, clock, concurrency=3), clock, max_sleep=0.05)
    worker.start()
    try:
        wait_until(lambda: manager.live_workers(), what="the worker registered")
        [live] = manager.live_workers()
        assert (live.threads, live.running, live.free_slots) == (3, 0, 3)
    finally:
        worker.stop.set()
        worker.join(30)
