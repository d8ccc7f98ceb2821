"""Staggered schedules: a job's fixed offset from its schedule's fire times.

Many tenants' `daily` jobs would all fire at the same midnight instant. A job with
`jitter_seconds` runs each slot at the nominal fire time plus an offset in [0, jitter_seconds)
that is derived from the job's id: the same for every slot and every process (so runs stay
evenly spaced and nothing needs storing), different from job to job (so identical schedules
spread out). The offset is kept below the shortest gap between the schedule's fire times, so a
slot always runs before the next one is due: an every-minute job never runs an hour late.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import UTC, datetime, timedelta
from uuid import UUID

from cronbase.schedule.cron import Schedule

MAX_JITTER_SECONDS = 3600
# No two fire times of a cron schedule are closer than this.
_FINEST = timedelta(minutes=1)
# Where the gaps are measured from: a fixed instant, so that every process agrees.
_FROM = datetime(2001, 1, 1, tzinfo=UTC)
# Gaps longer than the largest jitter cap nothing. Within a week of fire times every gap of a
# cron schedule shorter than that has shown itself (minute and hour within a day, the day
# boundary between two matching days), bar DST transitions, which a fixed window may miss.
_SPAN = timedelta(days=8)
_MOST_FIRES = 4000


@functools.lru_cache(maxsize=4096)
def shortest_gap(schedule: Schedule) -> timedelta | None:
    """The shortest time between two consecutive fire times, if shorter than a week (else,
    and for an on_demand schedule, None: no gap caps a jitter)."""
    shortest: timedelta | None = None
    previous = schedule.next_after(_FROM)
    count = 0
    while previous is not None and previous - _FROM < _SPAN and count < _MOST_FIRES:
        following = schedule.next_after(previous)
        if following is None:
            break
        gap = following - previous
        shortest = gap if shortest is None else min(shortest, gap)
        if shortest <= _FINEST:
            break
        previous, count = following, count + 1
    return shortest


def jitter_offset(job_id: UUID, jitter_seconds: int, schedule: Schedule) -> timedelta:
    """The job's offset: whole seconds in [0, jitter_seconds), and less than the schedule's
    shortest gap; zero without jitter. Pure and stable: the same id gives the same offset."""
    if jitter_seconds <= 0:
        return timedelta(0)
    limit = jitter_seconds
    gap = shortest_gap(schedule)
    if gap is not None:
        limit = min(limit, int(gap.total_seconds()) - 1)
    if limit <= 0:
        return timedelta(0)
    # A hash, not the id's own bits: ids need not be random (plain SQL may choose them).
    fraction = int.from_bytes(hashlib.sha256(job_id.bytes).digest()[:8], "big") / 2**64
    return timedelta(seconds=int(fraction * limit))


def next_fire_with_offset(
    schedule: Schedule, after: datetime, offset: timedelta
) -> datetime | None:
    """The first offset fire time (nominal + offset) strictly after `after`."""
    nominal = schedule.next_after(after - offset)
    return None if nominal is None else nominal + offset
