"""Misfire and overlap policies: the run history shows exactly what each policy says."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cronbase.errors import InvalidJob
from cronbase.registry import JobContext, JobRegistry
from cronbase.runner import Runner
from cronbase.store import SqlStore
from cronbase.testing import FakeClock
from tests.helpers import MakeJob, run_history, wait_for_runs_to_end

T0 = datetime(2025, 1, 15, 10, 30, tzinfo=UTC)


@pytest.fixture
def registry(gate: threading.Event) -> JobRegistry:
    registry = JobRegistry()

    @registry.job("note")
    def note(ctx: JobContext) -> dict[str, Any]:
        return {"slot": ctx.scheduled_for.isoformat()}

    @registry.job("long")
    def long(_ctx: JobContext) -> dict[str, Any]:
        gate.wait(30)
        return {}

    return registry


def history(store: SqlStore) -> list[tuple[str, str, Any]]:
    """(status, scheduled_for HH:MM, result) for every run row, in slot order."""
    return [(r.status, r.scheduled_for.strftime("%H:%M"), r.result) for r in run_history(store)]


def missed(count: int, first: str, last: str) -> dict[str, Any]:
    return {
        "missed_slots": count,
        "more": False,
        "first": f"2025-01-15T{first}:00Z",
        "last": f"2025-01-15T{last}:00Z",
    }


def test_catch_up_runs_every_missed_slot_oldest_first(
    store: SqlStore, registry: JobRegistry, clock: FakeClock, make_job: MakeJob
) -> None:
    make_job("note", misfire_policy="catch_up")
    clock.set(T0 + timedelta(minutes=17))  # 10:35, 10:40 and 10:45 went by
    summary = Runner(store, registry, clock).run_due()
    assert len(summary.executed) == 3
    assert [(s, slot) for s, slot, _ in history(store)] == [
        ("succeeded", "10:35"),
        ("succeeded", "10:40"),
        ("succeeded", "10:45"),
    ]
    [job] = store.list_jobs()
    assert job.next_run == T0 + timedelta(minutes=20)


def test_catch_up_records_slots_older_than_its_window_as_missed(
    store: SqlStore, registry: JobRegistry, clock: FakeClock, make_job: MakeJob
) -> None:
    make_job("note", misfire_policy="catch_up", catchup_window_seconds=600)
    clock.set(T0 + timedelta(minutes=32))  # 10:35 ... 11:00 went by; the window keeps 10:55, 11:00
    Runner(store, registry, clock).run_due()
    assert history(store) == [
        ("missed", "10:35", missed(4, "10:35", "10:50")),
        ("succeeded", "10:55", {"slot": "2025-01-15T10:55:00+00:00"}),
        ("succeeded", "11:00", {"slot": "2025-01-15T11:00:00+00:00"}),
    ]


def test_skip_runs_no_late_slot_and_waits_for_the_next(
    store: SqlStore, registry: JobRegistry, clock: FakeClock, make_job: MakeJob
) -> None:
    make_job("note", misfire_policy="skip")
    clock.set(T0 + timedelta(minutes=17, seconds=30))  # the last slot, 10:45, is 150 s late
    summary = Runner(store, registry, clock).run_due()
    assert summary.executed == []
    assert history(store) == [("missed", "10:35", missed(3, "10:35", "10:45"))]
    [job] = store.list_jobs()
    assert job.next_run == T0 + timedelta(minutes=20)


def test_skip_still_runs_a_slot_that_is_only_a_little_late(
    store: SqlStore, registry: JobRegistry, clock: FakeClock, make_job: MakeJob
) -> None:
    make_job("note", misfire_policy="skip")
    clock.set(T0 + timedelta(minutes=15, seconds=20))  # 10:45 is 20 s late: within 60 s
    Runner(store, registry, clock).run_due()
    assert [(s, slot) for s, slot, _ in history(store)] == [
        ("missed", "10:35"),
        ("succeeded", "10:45"),
    ]


def test_a_long_outage_is_recorded_in_one_row(
    store: SqlStore, registry: JobRegistry, clock: FakeClock, make_job: MakeJob
) -> None:
    make_job("note", schedule="every_1_minutes")
    clock.set(T0 + timedelta(days=30))  # 43,200 minutes
    Runner(store, registry, clock).run_due()
    (status, first, result), (ran, slot, _) = history(store)
    assert (ran, slot) == ("succeeded", "10:30")  # the newest slot, 30 days on
    assert (status, first) == ("missed", "10:31")
    assert result["more"] is True  # counted up to a limit, not one row per slot
    assert len(history(store)) == 2


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("skip", [("running", "10:35"), ("skipped", "10:40")]),
        ("allow", [("running", "10:35"), ("running", "10:40")]),
        ("queue", [("running", "10:35")]),
    ],
)
def test_overlap_policies_while_the_previous_run_goes_on(
    store: SqlStore,
    registry: JobRegistry,
    clock: FakeClock,
    make_job: MakeJob,
    gate: threading.Event,
    policy: str,
    expected: list[tuple[str, str]],
) -> None:
    make_job("long", overlap_policy=policy)
    runner = Runner(store, registry, clock)
    clock.set(T0 + timedelta(minutes=5))
    runner.step(clock.now())
    clock.set(T0 + timedelta(minutes=10))  # the next slot, while the 10:35 run goes on
    runner.step(clock.now())
    assert [(s, slot) for s, slot, _ in history(store)] == expected

    gate.set()
    wait_for_runs_to_end(runner)
    runner.step(clock.now())  # queue: the waiting slot starts now that the previous run ended
    wait_for_runs_to_end(runner)
    statuses = [s for s, _, _ in history(store)]
    assert (
        statuses
        == {
            "skip": ["succeeded", "skipped"],
            "allow": ["succeeded", "succeeded"],
            "queue": ["succeeded", "succeeded"],
        }[policy]
    )


def test_an_overlap_skip_counts_as_skipped_in_the_summary(
    store: SqlStore,
    registry: JobRegistry,
    clock: FakeClock,
    make_job: MakeJob,
    gate: threading.Event,
) -> None:
    make_job("long")
    runner = Runner(store, registry, clock, lease=timedelta(hours=1))  # outlives the clock jump
    clock.set(T0 + timedelta(minutes=5))
    runner.step(clock.now())
    clock.set(T0 + timedelta(minutes=10))
    summary = Runner(store, registry, clock).run_due()
    assert summary.to_dict()["summary"] == {"total": 1, "executed": 0, "skipped": 1, "failed": 0}
    gate.set()
    wait_for_runs_to_end(runner)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("misfire_policy", "sometimes"),
        ("overlap_policy", "maybe"),
        ("catchup_window_seconds", 0),
        ("priority", 5000),
        ("timeout_seconds", -1),
    ],
)
def test_bad_policy_settings_are_refused(
    make_job: MakeJob, store: SqlStore, field: str, value: Any
) -> None:
    with pytest.raises(InvalidJob) as caught:
        make_job("note", **{field: value})
    assert [f for f, _ in caught.value.errors] == [field]
    assert store.list_jobs() == []
