"""Recording how runs ended, on a real store: what is recorded, what is refused and why."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from cronbase.jobs import Job, Recorded, RunStatus, SlotPlan
from cronbase.manager import SYSTEM, JobManager
from cronbase.registry import JobContext, JobRegistry
from cronbase.runner import Runner
from cronbase.runner.outcomes import LeaseLapsed, build_outcome
from cronbase.store import SqlStore
from cronbase.testing import FakeClock
from tests.helpers import MakeJob, run_history, wait_for_runs_to_end


@pytest.fixture
def registry(gate: threading.Event) -> JobRegistry:
    registry = JobRegistry()

    @registry.job("gate")
    def wait_for_gate(_ctx: JobContext) -> dict[str, Any]:
        return {"opened": gate.wait(10)}

    @registry.job("quick")
    def quick(_ctx: JobContext) -> dict[str, Any]:
        return {}

    return registry


def statuses(store: SqlStore) -> list[str]:
    return sorted(run.status for run in run_history(store))


def test_a_run_whose_job_was_deleted_meanwhile_is_reported_as_deleted_not_abandoned(
    store: SqlStore,
    manager: JobManager,
    make_job: MakeJob,
    registry: JobRegistry,
    clock: FakeClock,
    gate: threading.Event,
    caplog: pytest.LogCaptureFixture,
) -> None:
    job = make_job("gate", name="Doomed")
    clock.advance(timedelta(minutes=5))
    runner = Runner(store, registry, clock)
    runner.step(clock.now())
    assert statuses(store) == ["running"]
    manager.delete_job(job.id, SYSTEM)  # its run goes with it

    caplog.set_level(logging.DEBUG, logger="cronbase.runner")
    gate.set()
    wait_for_runs_to_end(runner, timeout=10)

    messages = [record.getMessage() for record in caplog.records]
    assert any("run of Doomed ended after the job was deleted" in m for m in messages), messages
    assert not any("abandoned" in m for m in messages), messages
    assert statuses(store) == []


def test_the_owner_of_a_run_recorded_abandoned_is_told_so(
    store: SqlStore, make_job: MakeJob, clock: FakeClock
) -> None:
    make_job("quick")
    clock.advance(timedelta(minutes=5))
    [claim], _ = store.claim_due(clock.now(), "dead", _run_due_slot, lease=timedelta(seconds=60))
    clock.advance(timedelta(seconds=61))
    [(lapsed, run)] = store.lapsed_claims(clock.now())
    assert (lapsed.run_id, run.worker_id) == (claim.run_id, "dead")
    abandoned = build_outcome(lapsed, clock.now(), clock.now(), None, LeaseLapsed(), 0.0)
    assert store.record_outcomes([abandoned]) == [Recorded.RECORDED]

    late = build_outcome(claim, clock.now(), clock.now(), {}, None, 0.0)
    assert store.record_outcomes([late]) == [Recorded.ALREADY_ENDED]
    assert statuses(store) == [RunStatus.ABANDONED.value]


def test_a_lapsed_lease_renewed_before_it_is_recorded_leaves_the_run_to_its_owner(
    store: SqlStore, make_job: MakeJob, clock: FakeClock
) -> None:
    make_job("quick")
    clock.advance(timedelta(minutes=5))
    [claim], _ = store.claim_due(clock.now(), "slow", _run_due_slot, lease=timedelta(seconds=60))
    clock.advance(timedelta(seconds=61))
    [(lapsed, _)] = store.lapsed_claims(clock.now())
    # The owner was cut off for a while, and renews its lease just before the sweep records.
    store.extend_leases([claim.run_id], "slow", clock.now() + timedelta(seconds=60))

    abandoned = build_outcome(lapsed, clock.now(), clock.now(), None, LeaseLapsed(), 0.0)
    assert store.record_outcomes([abandoned]) == [Recorded.LEASE_RENEWED]
    assert statuses(store) == ["running"]
    finished = build_outcome(claim, clock.now(), clock.now(), {}, None, 0.0)
    assert store.record_outcomes([finished]) == [Recorded.RECORDED]
    assert statuses(store) == ["succeeded"]


def test_the_latest_runs_of_many_jobs_are_read_in_one_query(
    store: SqlStore, make_job: MakeJob, registry: JobRegistry, clock: FakeClock
) -> None:
    tenant = store.insert_tenant("Acme")
    jobs = [make_job("quick", name=f"j{i}") for i in range(3)]
    theirs = make_job("quick", name="theirs", tenant_id=tenant)
    never = make_job("quick", name="never", is_active=False)
    runner = Runner(store, registry, clock)
    for _ in range(2):
        clock.advance(timedelta(minutes=5))
        runner.run_due()
    newest = clock.now() - timedelta(seconds=clock.now().second)

    statements: list[str] = []

    def remember(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    ids = [job.id for job in [*jobs, theirs, never]]
    sa.event.listen(store.engine, "before_cursor_execute", remember)
    try:
        latest = store.latest_runs(ids)
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", remember)
    assert len([s for s in statements if "cron_job_run" in s]) == 1, statements
    assert set(latest) == {job.id for job in [*jobs, theirs]}
    assert all(run.scheduled_for == newest for run in latest.values())
    assert set(store.latest_runs(ids, tenant_id=tenant)) == {theirs.id}


def test_claimed_runs_get_ids_in_claim_order_on_postgresql(
    store: SqlStore, make_job: MakeJob, clock: FakeClock
) -> None:
    # store/ids.py: the runs' index entries go to the right edge of pk_cron_job_run.
    make_job("quick", name="first")
    make_job("quick", name="second")
    clock.advance(timedelta(minutes=5))
    [first], _ = store.claim_due(clock.now(), "w", _run_due_slot, 1, timedelta(seconds=60))
    time.sleep(0.002)
    [second], _ = store.claim_due(clock.now(), "w", _run_due_slot, 1, timedelta(seconds=60))
    assert first.run_id != second.run_id
    assert {run.id for run in run_history(store)} == {first.run_id, second.run_id}
    if store.dialect == "postgresql":
        assert (first.run_id.version, second.run_id.version) == (7, 7)
        assert first.run_id < second.run_id
        with store.engine.connect() as conn:
            ordered = conn.execute(sa.text("SELECT id FROM cron_job_run ORDER BY id")).scalars()
            assert list(ordered) == [first.run_id, second.run_id]


def _run_due_slot(job: Job, _now: Any) -> SlotPlan:
    return SlotPlan(job.next_run, None, None)
