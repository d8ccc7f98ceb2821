"""Overdue jobs (cronbase.overdue) as the store finds them, on both databases: what the
job.overdue alert, `cronbase status` and the metrics read."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from cronbase.auth import Principal, Role
from cronbase.errors import InvalidJob
from cronbase.manager import SYSTEM, JobManager
from cronbase.registry import JobRegistry
from cronbase.runner import Runner
from cronbase.store import SqlStore
from cronbase.testing import FakeClock
from tests.helpers import MakeJob, note_long_boom_registry, wait_for_runs_to_end

GRACE = timedelta(seconds=600)


@pytest.fixture
def registry(gate: threading.Event) -> JobRegistry:
    return note_long_boom_registry(gate)


def overdue_names(store: SqlStore, clock: FakeClock) -> list[str]:
    return sorted(job.name for job in store.overdue_jobs(clock.now()))


def test_a_job_nothing_runs_is_overdue_after_its_grace_until_a_run_claims_it(
    store: SqlStore, registry: JobRegistry, clock: FakeClock, make_job: MakeJob
) -> None:
    job = make_job("note", name="Quiet")  # every 5 minutes: next_run 10:35
    make_job("note", name="Patient", overdue_after_seconds=3600)
    assert job.next_run is not None
    clock.set(job.next_run + GRACE)
    assert overdue_names(store, clock) == []  # not more than the grace yet
    clock.advance(timedelta(seconds=1))
    assert overdue_names(store, clock) == ["Quiet"]
    clock.set(job.next_run + timedelta(seconds=3601))
    assert overdue_names(store, clock) == ["Patient", "Quiet"]
    Runner(store, registry, clock).run_due()  # a worker comes back: next_run moves on
    assert overdue_names(store, clock) == []


def test_a_paused_job_is_not_overdue(
    store: SqlStore, manager: JobManager, clock: FakeClock, make_job: MakeJob
) -> None:
    job = make_job("note", is_active=False)
    clock.advance(timedelta(days=1))
    assert store.overdue_jobs(clock.now()) == []
    manager.update_job(job.id, {"is_active": True}, SYSTEM)
    assert store.overdue_jobs(clock.now()) == []  # resumed: its next_run is in the future


def test_a_queue_job_waiting_behind_its_own_long_run_is_late_but_not_overdue(
    store: SqlStore,
    registry: JobRegistry,
    clock: FakeClock,
    make_job: MakeJob,
    gate: threading.Event,
) -> None:
    job = make_job("long", name="Queued", overlap_policy="queue")
    assert job.next_run is not None
    clock.set(job.next_run)
    runner = Runner(store, registry, clock)
    runner.step(clock.now())  # the 10:35 run starts and holds on the gate
    clock.advance(timedelta(minutes=30))  # 10:40 waits unclaimed behind it
    runner.step(clock.now())
    assert store.due_count(clock.now()) == 1
    assert overdue_names(store, clock) == []
    gate.set()
    wait_for_runs_to_end(runner)
    assert overdue_names(store, clock) == ["Queued"]  # nothing goes on, and nothing claims it


def test_a_job_whose_retry_waits_is_not_overdue(
    store: SqlStore, registry: JobRegistry, clock: FakeClock, make_job: MakeJob
) -> None:
    job = make_job("boom", max_attempts=2, retry_delay_seconds=86400)
    assert job.next_run is not None
    clock.set(job.next_run)
    runner = Runner(store, registry, clock)
    runner.step(clock.now())
    wait_for_runs_to_end(runner)  # failed; the retry waits a day as a pending run
    store.update_job(job.id, {"next_run": clock.now()})  # as if no worker claimed the next slot
    clock.advance(GRACE * 2)
    assert overdue_names(store, clock) == []


def test_an_admin_sees_their_tenants_overdue_jobs_only(
    manager: JobManager, clock: FakeClock, make_job: MakeJob, make_tenant: Any
) -> None:

    acme, other = make_tenant("Acme"), make_tenant("Other")
    make_job("note", name="Acme's", tenant_id=acme)
    make_job("note", name="Other's", tenant_id=other)
    make_job("note", name="Global")
    clock.advance(timedelta(hours=1))
    admin = Principal("ops@acme.test", Role.ADMIN, acme)
    assert [job.name for job in manager.overdue_jobs(admin)] == ["Acme's"]
    assert sorted(job.name for job in manager.overdue_jobs(SYSTEM)) == [
        "Acme's",
        "Global",
        "Other's",
    ]
    assert len(manager.status().overdue) == 3


@pytest.mark.parametrize("value", [59, 0, 31622401, "600", None, 1.5])
def test_the_grace_is_checked(make_job: MakeJob, value: Any) -> None:
    with pytest.raises(InvalidJob) as caught:
        make_job("note", overdue_after_seconds=value)
    [(field, message)] = caught.value.errors
    assert field == "overdue_after_seconds"
    assert "from 60 to 31622400" in message
