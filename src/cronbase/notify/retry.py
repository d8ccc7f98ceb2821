"""When to try a notification again: pure, the caller gives the times and the jitter."""

from __future__ import annotations

from datetime import datetime, timedelta

FIRST_RETRY = timedelta(seconds=30)
MAX_DELAY = timedelta(minutes=30)  # a receiver back from an outage waits at most this long
GIVE_UP_AFTER = timedelta(hours=24)  # then the notification is failed for good


def next_attempt_at(
    created_at: datetime, attempts: int, now: datetime, jitter: float
) -> datetime | None:
    """After `attempts` failed attempts (the last ending at `now`), when to try again; None
    once that would be more than GIVE_UP_AFTER after the notification was made.

    The delay doubles from FIRST_RETRY up to MAX_DELAY, and `jitter` (in [0, 1)) takes off up
    to half of it, so notifications that failed together (a receiver's outage) do not all
    come back at one instant: the first retry comes 15 to 30 s after the first attempt.
    """
    base = FIRST_RETRY.total_seconds() * 2 ** min(attempts - 1, 20)
    delay = min(base, MAX_DELAY.total_seconds()) * (1 - jitter / 2)
    at = now + timedelta(seconds=delay)
    return None if at > created_at + GIVE_UP_AFTER else at
