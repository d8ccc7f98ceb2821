"""Staggered schedules on a real store: next_run is the fire time plus the job's offset, the
run's scheduled_for stays the fire time, and lateness counts from fire time + offset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cronbase.errors import InvalidJob
from cronbase.jobs import job_offset
from cronbase.manager import SYSTEM, JobManager
from cronbase.registry import JobContext, JobRegistry
from cronbase.runner import Runner
from cronbase.store import SqlStore
from cronbase.testing import FakeClock
from tests.helpers import MakeJob, run_history

T0 = datetime(2025, 1, 15, 10, 30, tzinfo=UTC)  # the clock's start
FIRE = datetime(2025, 1, 15, 11, 0, tzinfo=UTC)  # the next hourly fire time


@pytest.fixture
def registry() -> JobRegistry:
    registry = JobRegistry()

    @registry.job("note")
    def note(ctx: JobContext) -> dict[str, Any]:
        return {"slot": ctx.scheduled_for.isoformat()}

    return registry


def test_a_staggered_job_runs_its_offset_after_each_fire_time(
    store: SqlStore, registry: JobRegistry, clock: FakeClock, make_job: MakeJob
) -> None:
    job = make_job("note", schedule="hourly", jitter_seconds=1800)
    offset = job_offset(job)
    assert timedelta(0) < offset < timedelta(minutes=30)  # (a zero offset: 1 in 1800 ids)
    assert job.next_run == FIRE + offset
    runner = Runner(store, registry, clock)

    clock.set(FIRE + offset - timedelta(seconds=1))
    assert runner.run_due().total == 0  # the fire time has passed, its offset not yet
    clock.set(FIRE + offset)
    assert len(runner.run_due().executed) == 1
    [run] = run_history(store)
    assert (run.status, run.scheduled_for) == ("succeeded", FIRE)  # the slot is the fire time
    stored = store.get_job(job.id)
    assert stored is not None
    assert stored.next_run == FIRE + timedelta(hours=1) + offset


def test_identical_schedules_spread_out(make_job: MakeJob) -> None:
    jobs = [make_job("note", schedule="daily", jitter_seconds=3600) for _ in range(20)]
    starts = {job.next_run for job in jobs}
    assert len(starts) >= 15
    midnight = datetime(2025, 1, 16, tzinfo=UTC)
    assert all(midnight <= start < midnight + timedelta(hours=1) for start in starts)


def test_lateness_counts_from_the_fire_time_plus_the_offset(
    store: SqlStore, registry: JobRegistry, clock: FakeClock, make_job: MakeJob
) -> None:
    job = make_job("note", schedule="hourly", misfire_policy="skip", jitter_seconds=1800)
    offset = job_offset(job)
    # 50 s after the slot was due (fire + offset): within skip's 60 s grace, so it runs, even
    # though the fire time itself may be more than 60 s ago.
    clock.set(FIRE + offset + timedelta(seconds=50))
    assert len(Runner(store, registry, clock).run_due().executed) == 1
    # 70 s after the next one was due: missed.
    clock.set(FIRE + timedelta(hours=1) + offset + timedelta(seconds=70))
    assert Runner(store, registry, clock).run_due().executed == []
    assert [(r.status, r.scheduled_for) for r in run_history(store)] == [
        ("succeeded", FIRE),
        ("missed", FIRE + timedelta(hours=1)),
    ]


def test_changing_the_jitter_reschedules_and_the_next_runs_show_the_real_times(
    manager: JobManager, make_job: MakeJob
) -> None:
    job = make_job("note", schedule="every_5_minutes")
    assert job.next_run == datetime(2025, 1, 15, 10, 35, tzinfo=UTC)
    changed = manager.update_job(job.id, {"jitter_seconds": 3600}, SYSTEM)
    offset = job_offset(changed)
    assert offset < timedelta(minutes=5)  # capped below the schedule's shortest gap
    # The clock reads 10:30:00: the 10:30 slot, offset, is still to come (unless offset is 0).
    first = datetime(2025, 1, 15, 10, 30 if offset else 35, tzinfo=UTC)
    assert changed.next_run == first + offset
    fires = manager.next_runs(job.id, SYSTEM, 3)
    assert fires == [first + timedelta(minutes=5 * i) + offset for i in range(3)]
    with pytest.raises(InvalidJob, match="jitter_seconds"):
        manager.update_job(job.id, {"jitter_seconds": 3601}, SYSTEM)


def test_the_charts_count_a_staggered_runs_start_lag_from_its_slot_plus_the_offset(
    store: SqlStore,
    registry: JobRegistry,
    clock: FakeClock,
    make_job: MakeJob,
    manager: JobManager,
) -> None:
    job = make_job("note", schedule="hourly", jitter_seconds=1800)
    other = make_job("note", schedule="hourly")  # no jitter: its lag is from the fire time
    offset = job_offset(job)
    runner = Runner(store, registry, clock)
    clock.set(FIRE + offset + timedelta(seconds=2))  # 2 s after the slot was due
    assert len(runner.run_due().executed) == 2  # the other's fire time passed long before
    manager.run_now(job.id, SYSTEM)  # a manual run: counted from when it was asked for
    clock.advance(timedelta(seconds=5))
    runner.run_due()

    [runs] = manager.recent_runs([job.id], SYSTEM, limit=10).values()
    assert [(r.trigger, r.start_lag_ms) for r in runs] == [("schedule", 2000), ("manual", 5000)]
    [other_run] = manager.recent_runs([other.id], SYSTEM, limit=10)[other.id]
    other_lag = (offset + timedelta(seconds=2)).total_seconds() * 1000
    assert other_run.start_lag_ms == other_lag

    # The offset comes from the job's random id: the manual run, 5 s later, may start in the
    # next minute, so the minutes are added up rather than expected to be one.
    minutes = [m for m in manager.minute_activity(SYSTEM) if m.runs]
    assert sum(m.runs for m in minutes) == 3
    assert max(m.max_lag_ms for m in minutes) == max(other_lag, 5000)
    summed = sum(m.mean_lag_ms * m.runs for m in minutes)  # each mean rounded to the ms
    assert abs(summed - (2000 + 5000 + other_lag)) <= 1.5
