"""Claims made ahead of the due instant (runner/ahead.py): the run starts at its instant, not
before; a pause, edit or delete committed before the instant still wins."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cronbase.jobs import Job
from cronbase.manager import SYSTEM, JobManager
from cronbase.registry import JobContext, JobRegistry
from cronbase.runner import Runner
from cronbase.store import SqlStore
from cronbase.testing import FakeClock
from tests.helpers import MakeJob, recording_registry, run_history, wait_for_runs_to_end

SLOT = datetime(2025, 1, 15, 10, 35, tzinfo=UTC)  # every_5_minutes, from the clock's 10:30
CLAIMED = datetime(2025, 1, 15, 10, 34, 59, 970000, tzinfo=UTC)  # 30 ms before it
CHANGED = datetime(2025, 1, 15, 10, 34, 59, 990000, tzinfo=UTC)  # 10 ms before it
AHEAD = 0.05
# The changes committed at CHANGED, between the claim and the slot.
PAUSE = {"is_active": False}
HOURLY = {"schedule": "hourly"}
VERSION_2 = {"metadata": {"version": 2}}


@pytest.fixture
def calls() -> list[JobContext]:
    return []


@pytest.fixture
def registry(calls: list[JobContext]) -> JobRegistry:
    return recording_registry(calls)


@pytest.fixture
def runner(store: SqlStore, registry: JobRegistry, clock: FakeClock) -> Runner:
    return Runner(store, registry, clock, worker_id="test-worker")


@pytest.fixture
def claimed_ahead(runner: Runner, clock: FakeClock, make_job: MakeJob) -> Job:
    """A job whose 10:35 run the runner claimed 30 ms before 10:35 (held, not started)."""
    job = make_job("record", schedule="every_5_minutes", metadata={"version": 1})
    clock.set(CLAIMED)
    assert runner.step(clock.now(), ahead=AHEAD) == 1
    return job


def _at_the_slot(runner: Runner, clock: FakeClock) -> None:
    clock.set(SLOT)
    runner.step(clock.now(), ahead=AHEAD)
    wait_for_runs_to_end(runner)


Change = Callable[[JobManager, Job], object]


@pytest.fixture
def changed_before_the_slot(
    claimed_ahead: Job, runner: Runner, clock: FakeClock, manager: JobManager
) -> Callable[[Change], Job]:
    """Commits a change to the job claimed ahead 10 ms before its slot, then steps the runner
    at the slot (the run held ends, if it starts); returns the job."""

    def change_then_reach_the_slot(change: Change) -> Job:
        clock.set(CHANGED)
        change(manager, claimed_ahead)
        _at_the_slot(runner, clock)
        return claimed_ahead

    return change_then_reach_the_slot


@pytest.mark.usefixtures("claimed_ahead")
def test_a_run_claimed_ahead_starts_at_its_instant_not_before(
    store: SqlStore, runner: Runner, clock: FakeClock, calls: list[JobContext]
) -> None:
    runner.wait(0.05)
    assert calls == []  # held: its instant has not come
    [run] = run_history(store)
    assert (run.status, run.scheduled_for) == ("running", SLOT)  # claimed: no one else takes it

    _at_the_slot(runner, clock)

    assert [ctx.scheduled_for for ctx in calls] == [SLOT]
    [run] = run_history(store)
    assert (run.status, run.started_at) == ("succeeded", SLOT)


def test_a_pause_committed_before_the_instant_stops_a_run_claimed_ahead(
    store: SqlStore, changed_before_the_slot: Callable[[Change], Job], calls: list[JobContext]
) -> None:
    job = changed_before_the_slot(lambda jobs, job: jobs.update_job(job.id, PAUSE, SYSTEM))

    assert calls == []
    assert run_history(store) == []  # released, as if never claimed
    paused = store.get_job(job.id)
    assert paused is not None
    assert paused.last_run is None
    assert paused.last_status is None


def test_an_edit_committed_before_the_instant_wins_over_a_run_claimed_ahead(
    store: SqlStore,
    runner: Runner,
    clock: FakeClock,
    changed_before_the_slot: Callable[[Change], Job],
    calls: list[JobContext],
) -> None:
    changed_before_the_slot(lambda jobs, job: jobs.update_job(job.id, VERSION_2, SYSTEM))
    runner.step(clock.now(), ahead=AHEAD)  # the slot is due again: claimed as the job now is
    wait_for_runs_to_end(runner)

    assert [(ctx.scheduled_for, ctx.metadata["version"]) for ctx in calls] == [(SLOT, 2)]
    assert [run.status for run in run_history(store)] == ["succeeded"]


def test_a_reschedule_committed_before_the_instant_wins_over_a_run_claimed_ahead(
    store: SqlStore, changed_before_the_slot: Callable[[Change], Job], calls: list[JobContext]
) -> None:
    job = changed_before_the_slot(lambda jobs, job: jobs.update_job(job.id, HOURLY, SYSTEM))

    assert calls == []
    assert run_history(store) == []
    moved = store.get_job(job.id)
    assert moved is not None
    assert moved.next_run == datetime(2025, 1, 15, 11, tzinfo=UTC)


def test_a_delete_committed_before_the_instant_stops_a_run_claimed_ahead(
    store: SqlStore, changed_before_the_slot: Callable[[Change], Job], calls: list[JobContext]
) -> None:
    changed_before_the_slot(lambda jobs, job: jobs.delete_job(job.id, SYSTEM))

    assert calls == []
    assert run_history(store) == []


def test_a_stopping_worker_withdraws_its_claims_ahead_for_another_to_take(
    store: SqlStore,
    runner: Runner,
    registry: JobRegistry,
    clock: FakeClock,
    claimed_ahead: Job,
    calls: list[JobContext],
) -> None:
    runner.release_queued()
    assert run_history(store) == []
    waiting = store.get_job(claimed_ahead.id)
    assert waiting is not None
    assert waiting.next_run == SLOT

    clock.set(SLOT)
    other = Runner(store, registry, clock, worker_id="other-worker")
    assert len(other.run_due().executed) == 1
    assert [ctx.scheduled_for for ctx in calls] == [SLOT]


@pytest.mark.parametrize("trigger", ["schedule", "run now"])
def test_a_run_claimed_by_a_worker_that_claims_ahead_ends_as_its_jobs_last_status(
    store: SqlStore,
    runner: Runner,
    clock: FakeClock,
    make_job: MakeJob,
    manager: JobManager,
    trigger: str,
) -> None:
    """A run due already starts at once, before the claim's horizon: its job's last_run must
    not be the horizon, or its ending would look older than the job's last run and the job
    would show `running` until its next run."""
    job = make_job("record", schedule="every_5_minutes")
    clock.set(SLOT.replace(second=1))  # the 10:35 slot is due; a run now would be too
    if trigger == "run now":
        runner.step(clock.now())  # the slot's run, out of the way
        wait_for_runs_to_end(runner)
        manager.run_now(job.id, SYSTEM)
    runner.step(clock.now(), ahead=AHEAD)
    wait_for_runs_to_end(runner)
    stored = store.get_job(job.id)
    assert stored is not None
    assert (stored.last_status, stored.last_run) == ("succeeded", clock.now())


@pytest.mark.parametrize("pause", [False, True], ids=["unchanged", "paused"])
def test_a_worker_starts_its_runs_claimed_ahead_from_a_thread_of_their_own(
    store: SqlStore,
    runner: Runner,
    clock: FakeClock,
    manager: JobManager,
    claimed_ahead: Job,
    calls: list[JobContext],
    pause: bool,
) -> None:
    """A worker's runs held ahead start at their instants from a thread of their own (not at
    the control loop's turns, which a claim or a batch of results may hold up then), after the
    same read of their jobs: a pause committed before the instant still wins."""
    runner.start_on_time()
    try:
        runner.wait(0.05)
        assert calls == []  # held: its instant has not come
        if pause:
            clock.set(CHANGED)
            manager.update_job(claimed_ahead.id, PAUSE, SYSTEM)
        clock.set(SLOT)
        wait_for_runs_to_end(runner)  # the loop's turns leave the held run to the thread
    finally:
        runner.stop.set()
        runner.join_on_time()

    if pause:
        assert calls == []
        assert run_history(store) == []
    else:
        assert [ctx.scheduled_for for ctx in calls] == [SLOT]
        [run] = run_history(store)
        assert (run.status, run.started_at) == ("succeeded", SLOT)


def test_a_lease_renewal_covers_a_run_its_thread_starts_while_the_loop_gathers_them(
    store: SqlStore,
    registry: JobRegistry,
    clock: FakeClock,
    make_job: MakeJob,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The control loop renews the leases of the runs held ahead, waiting and running. One the
    on-time thread moves from held to waiting while the loop gathers them must be among them:
    else its lease, as old as its claim (one held through a database outage: older than the
    others), is not renewed, the loop then takes its leases for fresh and runs it, and another
    worker may record it abandoned and run it again."""
    release = threading.Event()
    registry.job("hold")(lambda _ctx: {"released": release.wait(30)})
    runner = Runner(store, registry, clock, worker_id="test-worker", lease=timedelta(seconds=3))
    make_job("hold", schedule="every_5_minutes")
    clock.set(CLAIMED)
    assert runner.step(clock.now(), ahead=AHEAD) == 1
    [run] = run_history(store)
    held, start_held = runner._held, runner._start_held_on_time
    claims = held.claims

    def thread_takes_its_turn_first() -> list[Any]:  # it held the lock as the loop came to it
        monkeypatch.setattr(held, "claims", claims)
        start_held()
        return claims()

    renewed: list[Any] = []
    extend = store.extend_leases
    monkeypatch.setattr(
        store, "extend_leases", lambda ids, *rest: (renewed.extend(ids), extend(ids, *rest))
    )
    monkeypatch.setattr(runner, "_start_held_on_time", lambda: None)  # the test moves it
    runner.start_on_time()
    try:
        monkeypatch.setattr(held, "claims", thread_takes_its_turn_first)
        clock.set(SLOT + timedelta(seconds=1.5))  # a renewal is due (a third of the lease)
        runner.step(clock.now(), ahead=AHEAD)
        assert run.id in renewed
    finally:
        release.set()
        wait_for_runs_to_end(runner)
        runner.stop.set()
        runner.join_on_time()


def test_a_run_held_past_its_instant_is_left_to_the_thread_not_spun_on_by_the_loop(
    store: SqlStore,
    registry: JobRegistry,
    clock: FakeClock,
    make_job: MakeJob,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run held past its instant is the on-time thread's to start (it may be waiting to read
    its job again after a failed read: the database was away): the control loop, which cannot
    claim more meanwhile, does not wake for it at once, turn after turn, a core's worth of CPU
    until the thread's next try."""
    runner = Runner(store, registry, clock, worker_id="test-worker", concurrency=1, prefetch=1)
    make_job("record", schedule="every_5_minutes")
    clock.set(CLAIMED)
    assert runner.step(clock.now(), ahead=AHEAD) == 1
    monkeypatch.setattr(runner, "_start_held_on_time", lambda: None)  # its read failed
    runner.start_on_time()
    try:
        clock.set(SLOT + timedelta(seconds=0.5))
        assert runner.step(clock.now(), ahead=AHEAD) == 0  # its one thread has a claim waiting
        assert runner.busy
        assert runner.max_wait() > 0
    finally:
        runner.stop.set()
        runner.join_on_time()
        runner.release_queued()


def test_a_burst_claimed_ahead_leaves_the_loop_waiting_for_its_instant(
    store: SqlStore, registry: JobRegistry, clock: FakeClock, make_job: MakeJob
) -> None:
    """More runs fall due at the instant than a turn claims: the claims held ahead fill what
    the runner wants, so the next turn claims nothing before they start, and the control loop
    waits for the instant rather than turning at once, again and again until then (a core's
    worth of CPU that the threads starting the runs then compete with)."""
    runner = Runner(store, registry, clock, worker_id="test-worker", concurrency=1, prefetch=1)
    for n in range(3):
        make_job("record", name=f"burst {n}", schedule="every_5_minutes")
    clock.set(CLAIMED)
    assert runner.step(clock.now(), ahead=AHEAD) == 2  # one more is due: claimed later
    assert runner.step(clock.now(), ahead=AHEAD) == 0
    assert runner.max_wait() == pytest.approx((SLOT - CLAIMED).total_seconds())
    _at_the_slot(runner, clock)
