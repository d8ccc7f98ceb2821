"""Dependents run after their upstreams' final runs: chains, fan-out, fan-in (wait_for all, also
when both upstreams are recorded at the same moment by two workers), expired joins, `on:
failure` only after the last attempt, and a paused dependent's runs waiting for it."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from cronbase.jobs import Job, Outcome, RunStatus
from cronbase.manager import SYSTEM, JobManager
from cronbase.registry import JobContext, JobRegistry
from cronbase.runner import Runner
from cronbase.runner.planning import plan_slots
from cronbase.store import SqlStore
from cronbase.store.tables import cron_job_run
from cronbase.testing import FakeClock
from tests.helpers import MakeJob, run_history


@pytest.fixture
def registry() -> JobRegistry:
    registry = JobRegistry()

    @registry.job("echo")
    def echo(ctx: JobContext) -> dict[str, Any]:
        return {"triggered_by": list(ctx.triggered_by)}

    @registry.job("boom")
    def boom(_ctx: JobContext) -> dict[str, Any]:
        raise RuntimeError("it broke")

    return registry


def after(*jobs: Job, on: str = "success") -> list[dict[str, Any]]:
    return [{"job_id": str(job.id), "on": on} for job in jobs]


def runs(store: SqlStore, job: Job) -> list[Any]:
    return [run for run in run_history(store) if run.job_id == job.id]


def next_slot(clock: FakeClock) -> datetime:
    """Move the clock to the next hour (an hourly job's slot)."""
    now = clock.now()
    slot = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    clock.advance(slot - now)
    return slot


def test_a_chain_runs_in_order_for_one_slot(
    store: SqlStore, make_job: MakeJob, registry: JobRegistry, clock: FakeClock
) -> None:
    a = make_job("echo", name="A", schedule="hourly")
    b = make_job("echo", name="B", schedule="on_demand", depends_on=after(a))
    c = make_job("echo", name="C", schedule="on_demand", depends_on=after(b))
    slot = next_slot(clock)
    Runner(store, registry, clock).run_due()

    [run_a], [run_b], [run_c] = runs(store, a), runs(store, b), runs(store, c)
    assert [r.status for r in (run_a, run_b, run_c)] == ["succeeded"] * 3
    assert [r.trigger for r in (run_a, run_b, run_c)] == ["schedule", "dependency", "dependency"]
    assert {r.scheduled_for for r in (run_a, run_b, run_c)} == {slot}
    assert run_b.triggered_by == [str(run_a.id)] == run_b.result["triggered_by"]
    assert run_c.triggered_by == [str(run_b.id)] == run_c.result["triggered_by"]
    assert (run_b.trigger_key, run_c.trigger_key) == (str(run_a.id), str(run_b.id))
    assert run_a.finished_at <= run_b.started_at
    assert run_b.finished_at <= run_c.started_at


def test_fan_out_runs_every_dependent_once(
    store: SqlStore, make_job: MakeJob, registry: JobRegistry, clock: FakeClock
) -> None:
    a = make_job("echo", name="A", schedule="hourly")
    b = make_job("echo", name="B", schedule="on_demand", depends_on=after(a))
    c = make_job("echo", name="C", schedule="on_demand", depends_on=after(a))
    runner = Runner(store, registry, clock)
    next_slot(clock)
    runner.run_due()
    next_slot(clock)
    runner.run_due()
    [first, second] = runs(store, a)
    for dependent in (b, c):
        assert [r.triggered_by for r in runs(store, dependent)] == [
            [str(first.id)],
            [str(second.id)],
        ]


def test_fan_in_with_all_runs_once_after_both(
    store: SqlStore, make_job: MakeJob, registry: JobRegistry, clock: FakeClock
) -> None:
    a = make_job("echo", name="A", schedule="hourly")
    b = make_job("echo", name="B", schedule="hourly")
    c = make_job("echo", name="C", schedule="on_demand", depends_on=after(a, b), wait_for="all")
    slot = next_slot(clock)
    Runner(store, registry, clock).run_due()

    [run_c] = runs(store, c)
    [run_a], [run_b] = runs(store, a), runs(store, b)
    assert (run_c.status, run_c.scheduled_for, run_c.trigger_key) == (
        "succeeded",
        slot,
        f"all:{slot.isoformat().replace('+00:00', 'Z')}",
    )
    assert sorted(run_c.triggered_by) == sorted([str(run_a.id), str(run_b.id)])
    assert run_c.started_at >= max(run_a.finished_at, run_b.finished_at)


def test_fan_in_when_both_upstreams_are_recorded_at_the_same_moment(
    store: SqlStore, make_job: MakeJob, clock: FakeClock
) -> None:
    a = make_job("echo", name="A", schedule="hourly")
    b = make_job("echo", name="B", schedule="hourly")
    # Paused, so that its runs wait as pending rows instead of being claimed here.
    c = make_job(
        "echo",
        name="C",
        schedule="on_demand",
        depends_on=after(a, b),
        wait_for="all",
        is_active=False,
    )
    for _ in range(10):
        next_slot(clock)
        now = clock.now()
        # Two workers each claim one upstream, then record its end at the same instant.
        [claim_1], _ = store.claim_due(now, "w1", plan_slots, limit=1)
        [claim_2], _ = store.claim_due(now, "w2", plan_slots, limit=1)
        start = threading.Barrier(2)
        threads = [
            threading.Thread(target=_record_at_once, args=(store, claim, now, start))
            for claim in (claim_1, claim_2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    pending = Counter(run.scheduled_for for run in runs(store, c) if run.status == "pending")
    assert len(pending) == 10
    assert set(pending.values()) == {1}


def _record_at_once(store: SqlStore, claim: Any, now: datetime, start: threading.Barrier) -> None:
    start.wait()
    store.record_outcomes([Outcome(claim, RunStatus.SUCCEEDED, now, now, {})])


def test_a_join_that_cannot_complete_or_expires_gets_a_skipped_row(
    store: SqlStore,
    make_job: MakeJob,
    manager: JobManager,
    registry: JobRegistry,
    clock: FakeClock,
) -> None:
    a = make_job("echo", name="A", schedule="hourly")
    b = make_job("boom", name="B", schedule="hourly")
    c = make_job("echo", name="C", schedule="on_demand", depends_on=after(a, b), wait_for="all")
    runner = Runner(store, registry, clock)
    first = next_slot(clock)
    runner.run_due()
    [skipped] = runs(store, c)
    assert (skipped.status, skipped.scheduled_for) == ("skipped", first)
    assert "B ended failed (it needs success)" in skipped.error

    # B paused: its slot never runs, and C's join for it expires once A's next slot ends.
    manager.update_job(b.id, {"is_active": False}, SYSTEM)
    second = next_slot(clock)
    runner.run_due()
    assert [r.status for r in runs(store, c)] == ["skipped"]  # still waiting for B's
    next_slot(clock)
    runner.run_due()
    expired = [r for r in runs(store, c) if r.scheduled_for == second]
    assert [r.status for r in expired] == ["skipped"]
    assert "B has no final run for it" in expired[0].error
    assert len(runs(store, c)) == 2  # the third slot still waits


def test_on_failure_runs_only_after_the_final_failure(
    store: SqlStore, make_job: MakeJob, registry: JobRegistry, clock: FakeClock
) -> None:
    a = make_job("boom", name="A", schedule="hourly", max_attempts=2, retry_delay_seconds=60)
    page = make_job("echo", name="Page", schedule="on_demand", depends_on=after(a, on="failure"))
    runner = Runner(store, registry, clock, jitter=lambda: 0.0)
    next_slot(clock)
    runner.run_due()
    assert [r.status for r in runs(store, a)] == ["failed", "pending"]
    assert runs(store, page) == []  # a failed attempt that will be retried starts nothing

    clock.advance(timedelta(seconds=60))
    runner.run_due()
    final = runs(store, a)[-1]
    assert (final.attempt, final.status) == (2, "failed")
    [paged] = runs(store, page)
    assert (paged.status, paged.triggered_by) == ("succeeded", [str(final.id)])


def test_success_and_completion_conditions(
    store: SqlStore, make_job: MakeJob, registry: JobRegistry, clock: FakeClock
) -> None:
    a = make_job("boom", name="A", schedule="hourly")
    on_success = make_job("echo", name="S", schedule="on_demand", depends_on=after(a))
    on_completion = make_job(
        "echo", name="C", schedule="on_demand", depends_on=after(a, on="completion")
    )
    next_slot(clock)
    Runner(store, registry, clock).run_due()
    assert runs(store, on_success) == []
    assert [r.status for r in runs(store, on_completion)] == ["succeeded"]


def test_a_paused_dependents_runs_wait_until_it_is_resumed(
    store: SqlStore,
    make_job: MakeJob,
    manager: JobManager,
    registry: JobRegistry,
    clock: FakeClock,
) -> None:
    a = make_job("echo", name="A", schedule="hourly")
    b = make_job("echo", name="B", schedule="on_demand", depends_on=after(a), is_active=False)
    runner = Runner(store, registry, clock)
    next_slot(clock)
    runner.run_due()
    assert [r.status for r in runs(store, b)] == ["pending"]
    manager.update_job(b.id, {"is_active": True}, SYSTEM)
    runner.run_due()
    assert [r.status for r in runs(store, b)] == ["succeeded"]


def test_a_run_with_a_trigger_this_version_does_not_know_is_left_alone(
    store: SqlStore, make_job: MakeJob, registry: JobRegistry, clock: FakeClock
) -> None:
    a = make_job("echo", name="A", schedule="on_demand")
    with store.transaction() as conn:
        conn.execute(
            cron_job_run.insert().values(
                job_id=a.id,
                scheduled_for=clock.now(),
                status="pending",
                trigger="from_the_future",
                run_after=clock.now(),
            )
        )
    assert Runner(store, registry, clock).run_due().total == 0
    [run] = runs(store, a)
    assert (run.status, run.trigger) == ("pending", "from_the_future")
    with store.reading() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(cron_job_run)).scalar() == 1


def test_the_job_pages_reads_show_a_newer_workers_status_and_trigger_as_text(
    store: SqlStore, manager: JobManager, make_job: MakeJob, clock: FakeClock
) -> None:
    # A rolling upgrade: a newer worker wrote a status and a trigger this version does not know.
    a = make_job("echo", name="A")
    with store.transaction() as conn:
        conn.execute(
            cron_job_run.insert().values(
                job_id=a.id,
                scheduled_for=clock.now(),
                started_at=clock.now(),
                finished_at=clock.now(),
                status="from_the_future",
                trigger="from_the_future",
            )
        )
    [timing] = manager.recent_runs([a.id], SYSTEM, limit=20)[a.id]
    assert (timing.status, timing.trigger) == ("from_the_future", "from_the_future")
    # /metrics labels only the statuses it knows (a bounded set), and still answers.
    assert sum(manager.counts().runs.values()) == 0
    assert manager.explain(a.id, SYSTEM).state == "scheduled"
