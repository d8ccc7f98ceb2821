"""Misfire planning (pure): which slot of a due job runs, which are missed, and the next_run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from cronbase.jobs import MisfirePolicy, Missed, SlotPlan
from cronbase.runner.planning import MAX_COUNTED_SLOTS, batch_planner, plan_slots
from cronbase.schedule import parse_schedule
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


def test_coalesce_runs_the_latest_late_slot_for_all_and_records_the_earlier_missed() -> None:
    assert plan(MisfirePolicy.COALESCE, at(11, 2)) == SlotPlan(
        at(11, 0), Missed(DUE, at(10, 55), 5, more=False), at(11, 5)
    )
    # Exactly on a fire time: that slot is the latest, and runs.
    assert plan(MisfirePolicy.COALESCE, at(11, 5)) == SlotPlan(
        at(11, 5), Missed(DUE, at(11, 0), 6, more=False), at(11, 10)
    )
    # One slot late (the next has not come yet): nothing is missed.
    assert plan(MisfirePolicy.COALESCE, at(10, 39)) == SlotPlan(DUE, None, at(10, 40))


def test_coalesce_finds_the_latest_slot_of_a_sparse_schedule_after_a_long_outage() -> None:
    job = make_job(schedule="cron:0 9 * * 1", next_run=datetime(2025, 1, 13, 9, tzinfo=UTC))
    result = plan_slots(job, datetime(2025, 3, 5, 12, tzinfo=UTC))  # a Wednesday, 7 weeks on
    assert result.run_slot == datetime(2025, 3, 3, 9, tzinfo=UTC)  # the last Monday, 9:00
    assert result.missed == Missed(
        datetime(2025, 1, 13, 9, tzinfo=UTC), datetime(2025, 2, 24, 9, tzinfo=UTC), 7, more=False
    )


def test_coalesce_counts_a_long_outage_up_to_a_limit() -> None:
    job = make_job(schedule="every_1_minutes", next_run=DUE)
    result = plan_slots(job, DUE + timedelta(minutes=MAX_COUNTED_SLOTS + 500))
    assert result.missed is not None
    assert (result.missed.count, result.missed.more) == (MAX_COUNTED_SLOTS, True)
    assert result.missed.first == DUE
    assert result.run_slot == DUE + timedelta(minutes=MAX_COUNTED_SLOTS + 500)


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


@settings(max_examples=100, deadline=None)
@given(
    schedule=st.sampled_from(
        [
            "every_1_minutes",
            "every_15_minutes",
            "hourly",
            "daily",
            "cron:0 9 * * 1-5",
            "cron:*/7 8-10 * * *",
            "cron:0 0 1 * *",
        ]
    ),
    timezone=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"]),
    start=st.datetimes(datetime(2024, 1, 1), datetime(2026, 1, 1), timezones=st.just(UTC)),
    late=st.timedeltas(timedelta(0), timedelta(days=60)),
)
def test_coalesce_runs_the_last_slot_at_or_before_now_and_misses_each_earlier_one(
    schedule: str, timezone: str, start: datetime, late: timedelta
) -> None:
    first = parse_schedule(schedule, timezone).next_after(start)
    now = first + late
    result = plan_slots(make_job(schedule=schedule, timezone=timezone, next_run=first), now)
    parsed = parse_schedule(schedule, timezone)
    assert result.run_slot is not None
    assert first <= result.run_slot <= now < parsed.next_after(result.run_slot)
    assert result.next_run == parsed.next_after(now)
    if result.run_slot == first:
        assert result.missed is None
    else:
        assert result.missed is not None
        assert result.missed.first == first
        assert parsed.next_after(result.missed.last) == result.run_slot or result.missed.more


def test_a_claims_planner_plans_each_job_as_plan_slots_does_sharing_only_equal_plans() -> None:
    # Jobs that differ in one thing each that the plan depends on, and two that differ in
    # nothing but their id: one planner for them all, as for one claim.
    base = {"next_run": DUE, "schedule": "every_5_minutes"}
    jobs = [
        make_job(**base),
        make_job(**base),
        make_job(**{**base, "schedule": "every_minute"}),
        make_job(**{**base, "timezone": "Asia/Kolkata", "schedule": "hourly"}),
        make_job(**{**base, "next_run": DUE - timedelta(minutes=20)}),
        make_job(**{**base, "misfire_policy": MisfirePolicy.SKIP.value}),
        make_job(**{**base, "misfire_policy": MisfirePolicy.CATCH_UP.value}),
        make_job(**{**base, "catchup_window_seconds": 30, "misfire_policy": "skip"}),
        make_job(**{**base, "jitter_seconds": 200, "next_run": DUE + timedelta(seconds=7)}),
        make_job(**{**base, "jitter_seconds": 200, "next_run": DUE + timedelta(seconds=7)}),
        make_job(**{**base, "schedule": "not a schedule"}),
    ]
    planner = batch_planner()
    for now in (DUE + timedelta(seconds=9), at(11, 2)):
        assert [planner(job, now) for job in jobs] == [plan_slots(job, now) for job in jobs]
