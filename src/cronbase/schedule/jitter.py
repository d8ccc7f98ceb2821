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
import itertools
from datetime import datetime, timedelta
from uuid import UUID

from cronbase.schedule.cron import Schedule
from cronbase.schedule.fields import HOUR, MINUTE, parse_field

MAX_JITTER_SECONDS = 3600


@functools.lru_cache(maxsize=4096)  # claims ask for the same few schedules over and over
def shortest_gap(schedule: Schedule) -> timedelta | None:
    """The shortest time between two consecutive fire times on the wall clock, read from the
    minute and hour fields (None for an on_demand schedule, which has none).

    Beyond a day it is a lower bound (the day fields are not read: `weekly` gives a day), which
    is enough, a jitter being at most an hour; and it assumes that a day's last hour may be
    followed by the next day's first. DST transitions, which cron compresses or repeats, are
    not counted: around one, a slot may run after the next slot's fire time.
    """
    if schedule.on_demand:
        return None
    minute, hour = schedule.expression.split()[:2]
    minutes = sorted(parse_field(MINUTE, minute).values)
    hours = sorted(parse_field(HOUR, hour).values)
    within_hour = [b - a for a, b in itertools.pairwise(minutes)]
    # From an hour's last fire time to the first of the next hour that fires (across midnight
    # too): the minutes left in the one, the minutes before the other, the hours between.
    hour_steps = [b - a for a, b in itertools.pairwise(hours)]
    hour_steps.append(24 - hours[-1] + hours[0])
    across = 60 - minutes[-1] + minutes[0] + 60 * (min(hour_steps) - 1)
    return timedelta(minutes=min([*within_hour, across]))


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
