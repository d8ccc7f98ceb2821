"""Misfire planning (pure): which slot of a due job runs, which are missed, and the next_run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cronbase.jobs import MisfirePolicy, Missed, SlotPlan
from cronbase.runner.planning import MAX_COUNTED_SLOTS, plan_slots
from tests.unit.job_factory import make_job


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2025, 1, 15, hour, minute, second, tzinfo=UTC)


DUE = at(10, 35)  # the job's next_run; it fires every 5 minutes


def plan(policy: MisfirePolicy, now: datetime, window: int | None = None) -> SlotPlan:
    job = make_job(next_run=DUE, misfire_policy=policy.value, catchup_window_seconds=window)
    return plan_slots(job, now)


def test_on_time_every_policy_runs_the_slot_and_misses_nothing() -> None:
    for policy in MisfirePolicy:
        assert plan(policy, DUE + timedelta(seconds=10)) == SlotPlan(DUE, None, at(10, 40))


def test_coalesce_runs_the_first_late_slot_for_all_and_records_the_rest_missed() -> None:
    assert plan(MisfirePolicy.COALESCE, at(11, 2)) == SlotPlan(
        DUE, Missed(at(10, 40), at(11, 0), 5, more=False), at(11, 5)
    )


def test_coalesce_counts_a_long_outage_up_to_a_limit() -> None:
    job = make_job(schedule="every_1_minutes", next_run=DUE)
    result = plan_slots(job, DUE + timedelta(minutes=MAX_COUNTED_SLOTS + 500))
    assert result.missed is not None
    assert (result.missed.count, result.missed.more) == (MAX_COUNTED_SLOTS, True)
    assert result.missed.first == DUE + timedelta(minutes=1)


def test_skip_runs_no_slot_older_than_its_grace_and_waits_for_the_next() -> None:
    assert plan(MisfirePolicy.SKIP, DUE + timedelta(seconds=60)) == SlotPlan(DUE, None, at(10, 40))
    assert plan(MisfirePolicy.SKIP, at(11, 2)) == SlotPlan(
        None, Missed(DUE, at(11, 0), 6, more=False), at(11, 5)
    )


def test_skip_with_a_window_runs_the_latest_slot_inside_it() -> None:
    assert plan(MisfirePolicy.SKIP, at(11, 2), window=300) == SlotPlan(
        at(11, 0), Missed(DUE, at(10, 55), 5, more=False), at(11, 5)
    )


def test_catch_up_runs_every_slot_oldest_first_and_stays_due() -> None:
    assert plan(MisfirePolicy.CATCH_UP, at(11, 2)) == SlotPlan(DUE, None, at(10, 40))


def test_catch_up_with_a_window_misses_the_slots_older_than_it() -> None:
    assert plan(MisfirePolicy.CATCH_UP, at(11, 2), window=600) == SlotPlan(
        at(10, 55), Missed(DUE, at(10, 50), 4, more=False), at(11, 0)
    )
    # Nothing inside the window: every slot missed, and the job waits for its next one.
    assert plan(MisfirePolicy.CATCH_UP, at(11, 2), window=60) == SlotPlan(
        None, Missed(DUE, at(11, 0), 6, more=False), at(11, 5)
    )


def test_a_stored_schedule_that_no_longer_parses_runs_once_as_an_error_and_stops() -> None:
    result = plan_slots(make_job(schedule="every_7_minutes", next_run=DUE), at(11, 2))
    assert (result.run_slot, result.missed, result.next_run) == (DUE, None, None)
    assert result.error is not None
    assert "every_7_minutes" in result.error
    assert "until its schedule is fixed" in result.error
