"""Staggered schedules (pure): a job's offset from its fire times, derived from its id."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from cronbase.schedule import jitter_offset, next_fire_with_offset, parse_schedule, shortest_gap

SCHEDULES = [
    "every_1_minutes",
    "every_5_minutes",
    "every_15_minutes",
    "hourly",
    "daily",
    "weekly",
    "cron:0,59 0,23 * * *",  # 23:59 then 00:00: one minute apart across midnight
    "cron:*/7 8-10 * * *",
    "cron:30 2 * * 1-5",
]
ZONES = ["UTC", "Europe/Berlin", "America/New_York"]


def test_the_shortest_gap_of_common_schedules() -> None:
    def gap(schedule: str) -> timedelta | None:
        return shortest_gap(parse_schedule(schedule))

    assert gap("every_1_minutes") == timedelta(minutes=1)
    assert gap("every_5_minutes") == timedelta(minutes=5)
    assert gap("hourly") == timedelta(hours=1)
    assert gap("daily") == timedelta(days=1)
    assert gap("cron:0,59 0,23 * * *") == timedelta(minutes=1)
    assert gap("cron:*/7 8-10 * * *") == timedelta(minutes=4)  # 08:56, then 09:00
    assert gap("cron:0 0 1 1 *") == timedelta(days=1)  # a lower bound beyond a day
    assert gap("on_demand") is None


@settings(max_examples=200, deadline=None)
@given(
    schedule=st.sampled_from(SCHEDULES),
    start=st.datetimes(datetime(2024, 1, 1), datetime(2027, 1, 1), timezones=st.just(UTC)),
)
def test_no_two_fire_times_are_closer_than_the_shortest_gap(schedule: str, start: datetime) -> None:
    parsed = parse_schedule(schedule)  # UTC: no DST transition
    gap = shortest_gap(parsed)
    assert gap is not None
    fires = parsed.preview(start, 50)
    assert min(b - a for a, b in itertools.pairwise(fires)) >= min(gap, timedelta(days=1))


def test_no_jitter_no_offset_and_a_cap_below_the_shortest_gap() -> None:
    job = uuid.UUID(int=12345)
    assert jitter_offset(job, 0, parse_schedule("daily")) == timedelta(0)
    # An every-minute job never runs a minute late, whatever jitter it asks for.
    assert jitter_offset(job, 3600, parse_schedule("every_1_minutes")) < timedelta(minutes=1)


def test_identical_schedules_spread_over_the_jitter() -> None:
    daily = parse_schedule("daily")
    offsets = {jitter_offset(uuid.uuid4(), 3600, daily) for _ in range(2000)}
    assert len(offsets) > 1000  # of 3600 possible seconds: spread, not bunched
    assert max(offsets) - min(offsets) > timedelta(minutes=55)


@settings(max_examples=300, deadline=None)
@given(
    job_id=st.uuids(),
    jitter=st.integers(0, 3600),
    schedule=st.sampled_from(SCHEDULES),
    zone=st.sampled_from(ZONES),
)
def test_the_offset_is_stable_below_the_jitter_and_the_gap(
    job_id: uuid.UUID, jitter: int, schedule: str, zone: str
) -> None:
    parsed = parse_schedule(schedule, zone)
    offset = jitter_offset(job_id, jitter, parsed)
    assert offset == jitter_offset(job_id, jitter, parse_schedule(schedule, zone))  # stable
    assert offset.total_seconds() == int(offset.total_seconds())  # whole seconds
    assert timedelta(0) <= offset
    if jitter:
        assert offset < timedelta(seconds=jitter)
    else:
        assert offset == timedelta(0)
    gap = shortest_gap(parsed)
    assert gap is None or offset < gap


@settings(max_examples=200, deadline=None)
@given(
    job_id=st.uuids(),
    jitter=st.integers(1, 3600),
    schedule=st.sampled_from(SCHEDULES),
    after=st.datetimes(datetime(2024, 1, 1), datetime(2027, 1, 1), timezones=st.just(UTC)),
)
def test_the_offset_fire_time_is_the_next_fire_time_plus_the_offset(
    job_id: uuid.UUID, jitter: int, schedule: str, after: datetime
) -> None:
    parsed = parse_schedule(schedule)
    offset = jitter_offset(job_id, jitter, parsed)
    fire = next_fire_with_offset(parsed, after, offset)
    assert fire is not None
    assert fire > after
    nominal = fire - offset
    assert parsed.next_after(nominal - timedelta(microseconds=1)) == nominal  # a fire time
    # the first such: no offset fire time lies between `after` and it
    earlier = parsed.next_after(after - offset)
    assert earlier == nominal
