"""From matching wall-clock times to fire instants, with cronie's daylight-saving rules.

cronsim walks the *naive* local wall clock (no zone, so no DST logic of its own) and yields
every wall time that matches the fields. This module turns each wall time into the instants
at which the job fires, following crontab(5):

* a wall time that occurs once fires once;
* a wall time in a spring-forward gap never happens: a wildcard job (minute or hour field
  starts with `*`) skips it, a fixed-time job fires once at the first instant after the gap;
* a wall time in a fall-back overlap happens twice: a wildcard job fires both times, a
  fixed-time job only the first time.

We do this ourselves instead of passing cronsim an aware datetime because cronsim's own DST
mode can return an instant earlier than `after` (a fixed-time job asked from inside the second
pass of a repeated hour) and can return a wall time inside a gap for wildcard jobs in zones
whose transition is at midnight (America/Santiago, Asia/Beirut, ...).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from cronsim import CronSim

_SECOND = timedelta(seconds=1)
# cronsim gives up (StopIteration) when nothing matches for 50 years. Every validated schedule
# matches within the 400-year Gregorian cycle, so restarting a few times is always enough.
_MAX_RESTARTS = 8


class NoFireTime(ValueError):
    """The schedule has no fire time after the given instant within the datetime range."""


class WallKind(Enum):
    UNIQUE = "unique"  # occurs exactly once
    GAP = "gap"  # skipped by a spring-forward transition
    OVERLAP = "overlap"  # repeated by a fall-back transition


def classify(wall: datetime, zone: ZoneInfo) -> WallKind:
    """Whether a naive wall time occurs once, never, or twice in `zone`."""
    first = wall.replace(tzinfo=zone, fold=0).utcoffset()
    second = wall.replace(tzinfo=zone, fold=1).utcoffset()
    assert first is not None
    assert second is not None
    if first == second:
        return WallKind.UNIQUE
    # PEP 495: fold=0 uses the offset in force before the transition. Before a gap the offset
    # is smaller than after it; before an overlap it is larger.
    return WallKind.GAP if first < second else WallKind.OVERLAP


def instants(wall: datetime, zone: ZoneInfo, fixed_time: bool) -> tuple[WallKind, list[datetime]]:
    """The UTC instants at which a job matching `wall` fires (see the module docstring)."""
    kind = classify(wall, zone)
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if kind is WallKind.UNIQUE:
        return kind, [first]
    if kind is WallKind.OVERLAP:
        if fixed_time:
            return kind, [first]
        return kind, [first, wall.replace(tzinfo=zone, fold=1).astimezone(UTC)]
    if fixed_time:
        return kind, [gap_end(wall, zone)]
    return kind, []


def gap_end(wall: datetime, zone: ZoneInfo) -> datetime:
    """The first instant after the spring-forward gap that swallowed `wall` (in UTC).

    With fold=1 the gap time maps to an instant before the transition, with fold=0 to one at
    or after it; bisect between them to the second (tz transitions are on whole seconds).
    """
    before = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    after = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    new_offset = after.astimezone(zone).utcoffset()
    while after - before > _SECOND:
        middle = before + (after - before) // 2
        middle = middle.replace(microsecond=0)
        if middle.astimezone(zone).utcoffset() == new_offset:
            after = middle
        else:
            before = middle
    return after


def matching_walls(expression: str, start: datetime) -> Iterator[datetime]:
    """Naive wall times strictly after `start` that match the 5-field `expression`, in order."""
    for _ in range(_MAX_RESTARTS):
        walk = CronSim(expression, start)
        while True:
            try:
                yield next(walk)
            except StopIteration:
                break
        # Nothing for 50 years after `start` (cronsim's horizon): resume from there.
        if start.year + 50 > datetime.max.year:
            break
        start = datetime(start.year + 50, 1, 1) - _SECOND
    raise NoFireTime(f"no fire time after {start.isoformat()} (before the year 10000)")


def earliest_wall(after_local: datetime) -> datetime:
    """The earliest wall time that can belong to an instant later than `after_local`.

    Normally that is the wall time of `after` itself. But if `after` is in the first pass of a
    repeated (fall-back) interval, the second pass starts up to the overlap's length earlier
    on the wall clock, and those times are still in the future.
    """
    wall = after_local.replace(tzinfo=None)
    if after_local.fold == 0:
        first = after_local.utcoffset()
        second = after_local.replace(fold=1).utcoffset()
        assert first is not None
        assert second is not None
        if first > second:
            return wall - (first - second)
    return wall


def next_instant(expression: str, zone: ZoneInfo, fixed_time: bool, after: datetime) -> datetime:
    """The first fire instant strictly after the aware datetime `after`, in UTC."""
    after_utc = after.astimezone(UTC)
    best: datetime | None = None
    start = earliest_wall(after_utc.astimezone(zone))
    for wall in matching_walls(expression, start):
        kind, fires = instants(wall, zone, fixed_time)
        for fire in fires:
            if fire > after_utc and (best is None or fire < best):
                best = fire
        # Wall times that occur once are in the same order as their instants, so the first
        # such match after a candidate ends the search. Overlap walls are not: the second pass
        # of an earlier wall time can come after the first pass of a later one.
        if best is not None and kind is not WallKind.OVERLAP:
            return best
    raise AssertionError("unreachable: matching_walls never ends without raising")
