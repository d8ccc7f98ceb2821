"""When a notification is tried again: within a minute at first, backing off, for 24 hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cronbase.notify.retry import GIVE_UP_AFTER, MAX_DELAY, next_attempt_at

MADE = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_first_retry_comes_within_a_minute_whatever_the_jitter() -> None:
    for jitter in (0.0, 0.5, 0.999):
        at = next_attempt_at(MADE, 1, MADE, jitter)
        assert at is not None
        assert timedelta(seconds=15) <= at - MADE <= timedelta(seconds=30)


def test_the_delay_doubles_up_to_its_cap_and_jitter_spreads_it() -> None:
    delays = [next_attempt_at(MADE, n, MADE, 0.0) - MADE for n in range(1, 10)]  # type: ignore[operator]
    assert delays[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert max(delays) == MAX_DELAY
    assert next_attempt_at(MADE, 3, MADE, 0.5) - MADE == timedelta(seconds=90)  # type: ignore[operator]


def test_it_gives_up_once_the_next_attempt_would_pass_24_hours() -> None:
    now = MADE + GIVE_UP_AFTER - timedelta(minutes=10)
    assert next_attempt_at(MADE, 40, now, 0.0) is None
    assert next_attempt_at(MADE, 1, now, 0.0) is not None


def test_a_receiver_down_for_an_hour_is_tried_about_ten_times_meanwhile() -> None:
    now, attempts = MADE, 0
    while now < MADE + timedelta(hours=1):
        attempts += 1
        now = next_attempt_at(MADE, attempts, now, 0.5)  # type: ignore[assignment]
    assert 5 <= attempts <= 12
    assert now - (MADE + timedelta(hours=1)) <= MAX_DELAY  # back within the cap
