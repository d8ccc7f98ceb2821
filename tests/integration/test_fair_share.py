"""Fair share between tenants: one tenant's flood of high-priority runs cannot keep another
tenant's due runs from a thread (see fair_share.py), on a real store."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from cronbase.fair_share import TenantShares
from cronbase.jobs import Job
from cronbase.manager import SYSTEM, JobManager
from cronbase.registry import JobContext, JobRegistry
from cronbase.runner import Runner
from cronbase.runner.planning import plan_slots
from cronbase.store import SqlStore
from cronbase.testing import FakeClock
from tests.helpers import MakeJob, run_history, wait_for_runs_to_end, wait_until

EVERY_MINUTE = "cron:* * * * *"


@pytest.fixture
def registry(gate: threading.Event) -> JobRegistry:
    registry = JobRegistry()

    @registry.job("hold")
    def hold(_ctx: JobContext) -> dict[str, Any]:
        gate.wait(60)  # a long run: keeps its thread until the test lets go
        return {}

    @registry.job("note")
    def note(_ctx: JobContext) -> dict[str, Any]:
        return {}

    return registry


def runs_of(store: SqlStore, job: Job) -> list[str]:
    return [run.status for run in run_history(store) if run.job_id == job.id]


def drive_until(runner: Runner, condition: Callable[[], bool], what: str) -> None:
    """Let the runner collect and record the runs that end until `condition` holds (the
    fake clock stands still, so the runner's own batching would wait for ever)."""

    def ended() -> bool:
        runner.wait(0.05)
        runner.flush()
        return condition()

    wait_until(ended, what=what)


def running_of(store: SqlStore, tenant: UUID) -> int:
    return sum(
        1 for run in run_history(store) if run.tenant_id == tenant and run.status == "running"
    )


def test_a_tenants_flood_at_top_priority_does_not_starve_another_tenants_job(
    store: SqlStore,
    make_job: MakeJob,
    make_tenant: Callable[..., UUID],
    registry: JobRegistry,
    clock: FakeClock,
) -> None:
    # The case that was reported: 150 jobs at priority 1000 from tenant A kept tenant B's
    # every-minute job from running for four slots on a worker with 2 threads.
    flooder, other = make_tenant("A"), make_tenant("B")
    for number in range(150):
        make_job("hold", name=f"a{number}", priority=1000, schedule=EVERY_MINUTE, tenant_id=flooder)
    theirs = make_job("note", name="b", schedule=EVERY_MINUTE, tenant_id=other)
    runner = Runner(store, registry, clock, concurrency=2, prefetch=0)
    assert runner.tenant_cap == 1  # half the threads

    for minute in range(1, 5):
        clock.advance(timedelta(minutes=1))
        runner.step(clock.now())
        if minute == 1:
            # The first claim read A's runs first (priority 1000) and took one, passing over
            # the rest: the worker claims again at once (no wait), leaving A out, and finds
            # B's run. From then on A holds its one thread and every claim leaves A out.
            assert runner.max_wait() == 0
            runner.step(clock.now())
        drive_until(
            runner,
            lambda n=minute: runs_of(store, theirs).count("succeeded") == n,
            f"B's run of minute {minute} to succeed beside A's flood",
        )
        assert running_of(store, flooder) == 1  # A keeps one thread, never both

    assert runs_of(store, theirs) == ["succeeded"] * 4


def test_a_tenant_holds_at_most_its_cap_and_global_jobs_count_toward_none(
    store: SqlStore,
    make_job: MakeJob,
    make_tenant: Callable[..., UUID],
    registry: JobRegistry,
    clock: FakeClock,
) -> None:
    tenant = make_tenant()
    for number in range(4):
        make_job("hold", name=f"t{number}", priority=5, tenant_id=tenant)
        make_job("hold", name=f"g{number}")
    clock.advance(timedelta(minutes=5))
    runner = Runner(store, registry, clock, concurrency=4, prefetch=0)

    assert runner.step(clock.now()) == 2  # the tenant's two (priority 5), the rest passed over
    assert runner.max_wait() == 0  # so the worker claims again at once
    assert runner.step(clock.now()) == 2
    runs = run_history(store)
    assert sum(run.tenant_id == tenant for run in runs) == 2  # the cap: half of 4 threads
    assert sum(run.tenant_id is None for run in runs) == 2  # the global jobs fill the rest
    assert runner.step(clock.now()) == 0  # no free thread: nothing more is claimed


def test_the_cap_can_be_set_and_applies_to_runs_queued_by_run_now(
    store: SqlStore,
    manager: JobManager,
    make_job: MakeJob,
    make_tenant: Callable[..., UUID],
    registry: JobRegistry,
    clock: FakeClock,
    gate: threading.Event,
) -> None:
    flooder, other = make_tenant("A"), make_tenant("B")
    floods = [
        make_job("hold", name=f"a{n}", priority=1000, tenant_id=flooder, is_active=False)
        for n in range(5)
    ]
    theirs = make_job("note", name="b", tenant_id=other, is_active=False)
    for job in [*floods, theirs]:  # paused, so only the manual runs are due
        manager.run_now(job.id, SYSTEM)
    runner = Runner(store, registry, clock, concurrency=4, max_running_per_tenant=2, prefetch=0)

    runner.step(clock.now())  # A's first two; the claim passed over the rest
    runner.step(clock.now())  # leaves A out: B's
    drive_until(runner, lambda: runs_of(store, theirs) == ["succeeded"], "B's run now")
    assert running_of(store, flooder) == 2
    gate.set()
    wait_for_runs_to_end(runner)
    while runner.step(clock.now()):  # the rest of A's runs, two at a time
        wait_for_runs_to_end(runner)
    assert sorted(status for job in floods for status in runs_of(store, job)) == ["succeeded"] * 5


def test_a_claim_takes_each_tenants_room_and_the_next_claim_leaves_full_tenants_out(
    store: SqlStore,
    make_job: MakeJob,
    make_tenant: Callable[..., UUID],
    clock: FakeClock,
) -> None:
    flooder, other = make_tenant("A"), make_tenant("B")
    floods = {make_job("note", name=f"a{n}", priority=1000, tenant_id=flooder).id for n in range(9)}
    theirs = make_job("note", name="b", tenant_id=other)
    mine = make_job("note", name="g", priority=999)  # global: counts toward no cap
    clock.advance(timedelta(minutes=5))
    shares = TenantShares(cap=2)

    first, taken = store.claim_due(clock.now(), "w", plan_slots, limit=3, shares=shares)

    # The claim read A's rows first (priority 1000): A keeps its room of 2, the third is
    # passed over (the runner then claims again at once).
    assert taken == 2
    assert {claim.job.id for claim in first} < floods
    assert shares.full() == [flooder]
    assert shares.passed_over == 1

    second, _ = store.claim_due(clock.now(), "w", plan_slots, limit=3, shares=shares)
    # A is left out: the global job (priority 999) and B's are found past A's rows.
    assert [claim.job.id for claim in second] == [mine.id, theirs.id]
    assert set(store.due_jobs(clock.now())) == floods - {claim.job.id for claim in first}
