"""Property tests: random valid cron expressions and random instants, against an oracle.

The oracle is independent of the production parser: each field is generated together with
the set of values it stands for, and "does this instant fire?" is answered by brute force
from those sets and cronie's rules (see test_schedule_dst.py for the rules).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from cronsim import CronSim
from hypothesis import given, settings
from hypothesis import strategies as st

from cronbase.schedule import InvalidSchedule, describe, parse_schedule

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Santiago"]
# The 2025 transitions of those zones (UTC), so that `after` often lands next to one.
TRANSITIONS = {
    "Europe/Berlin": [datetime(2025, 3, 30, 1, 0), datetime(2025, 10, 26, 1, 0)],
    "America/New_York": [datetime(2025, 3, 9, 7, 0), datetime(2025, 11, 2, 6, 0)],
    "Australia/Lord_Howe": [datetime(2025, 4, 5, 15, 0), datetime(2025, 10, 4, 15, 30)],
    "America/Santiago": [datetime(2025, 4, 6, 3, 0), datetime(2025, 9, 7, 4, 0)],
}
ZONED_TRANSITIONS = [
    (tz, instant.replace(tzinfo=UTC))
    for tz, instants in TRANSITIONS.items()
    for instant in instants
]
MINUTE = timedelta(minutes=1)
BRUTE_FORCE_LIMIT = timedelta(days=2)


@dataclass(frozen=True)
class Field:
    text: str
    values: frozenset[int]
    starred: bool


@dataclass(frozen=True)
class Expr:
    minute: Field
    hour: Field
    day: Field
    month: Field
    weekday: Field

    @property
    def text(self) -> str:
        return " ".join(
            f.text for f in (self.minute, self.hour, self.day, self.month, self.weekday)
        )

    @property
    def fixed_time(self) -> bool:
        return not (self.minute.starred or self.hour.starred)

    @property
    def days_and(self) -> bool:
        return self.day.starred or self.weekday.starred

    def can_fire(self) -> bool:
        if not self.days_and:
            return True
        return any(d <= DAYS_IN_MONTH[m - 1] for m in self.month.values for d in self.day.values)

    def matches(self, wall: datetime) -> bool:
        """Does the naive wall time match, with cronie's day-of-month/day-of-week rule?"""
        if wall.minute not in self.minute.values or wall.hour not in self.hour.values:
            return False
        if wall.month not in self.month.values:
            return False
        weekday = wall.isoweekday() % 7  # Sunday = 0
        dow = weekday in self.weekday.values or (weekday == 0 and 7 in self.weekday.values)
        dom = wall.day in self.day.values
        return (dom and dow) if self.days_and else (dom or dow)


KINDS = st.sampled_from(["star", "star", "value", "range", "open", "sunday_end"])


@dataclass(frozen=True)
class FieldGen:
    """Generates one cron field's text together with the set of values it stands for."""

    low: int
    high: int
    names: tuple[str, ...] = ()  # names[i] stands for low + i
    hot: tuple[int, ...] = ()  # values drawn often: local times of DST transitions
    only_hot: bool = False

    def strategy(self) -> st.SearchStrategy[Field]:
        span = self.high - self.low
        # Steps past the span too: Debian's cron takes them and sets only the first value.
        steps = st.sampled_from([1, 1, 2, 3, 5, 7, 11, span, span + 1, 40, 100])
        values = st.sampled_from(self.hot or [self.low])
        if not self.only_hot:
            values = st.one_of(st.integers(self.low, self.high), values)
        item = st.tuples(KINDS, steps, st.booleans(), values, values, st.integers(0, 5))
        return st.lists(item, min_size=1, max_size=3).map(self.build)

    def build(self, items: list[tuple[str, int, bool, int, int, int]]) -> Field:
        terms = [self.term(*item) for item in items]
        return Field(
            ",".join(text for text, _, _ in terms),
            frozenset(v for _, values, _ in terms for v in values),
            starred=terms[0][2],
        )

    def term(
        self, kind: str, step: int, bare: bool, a: int, b: int, style: int
    ) -> tuple[str, range, bool]:
        suffix = "" if step == 1 and bare else f"/{step}"
        a, b = min(a, b), max(a, b)
        if kind == "star":
            return f"*{suffix}", range(self.low, self.high + 1, step), True
        if kind == "value":
            return self.text(a, style), range(a, a + 1), False
        if kind == "open":  # a/n: a through the maximum
            return f"{self.text(a, style)}/{step}", range(a, self.high + 1, step), False
        if kind == "sunday_end" and self.high == 7 and b > 0:  # cronie: MON-SUN is 1-7
            end = ("0", "sun", "SUN")[style % 3]
            return f"{self.text(b, style)}-{end}{suffix}", range(b, 8, step), False
        text = f"{self.text(a, style)}-{self.text(b, style + 1)}{suffix}"
        return text, range(a, b + 1, step), False

    def text(self, value: int, style: int) -> str:
        """A value as a number, or as a name in one of three letter cases."""
        index = value - self.low
        if style % 2 or not 0 <= index < len(self.names):
            return str(value)
        return (str.lower, str.upper, str.capitalize)[style % 3](self.names[index])


MINUTES = FieldGen(0, 59, hot=(0, 15, 30, 45)).strategy()
HOURS = FieldGen(0, 23, hot=(0, 1, 2, 3, 23)).strategy()
DAYS_OF_MONTH = FieldGen(1, 31).strategy()
MONTH_FIELDS = FieldGen(1, 12, MONTHS).strategy()
WEEKDAY_FIELDS = FieldGen(0, 7, WEEKDAYS).strategy()

expressions = st.builds(Expr, MINUTES, HOURS, DAYS_OF_MONTH, MONTH_FIELDS, WEEKDAY_FIELDS)
near_transitions = st.builds(
    lambda base, minutes, micros: base + timedelta(minutes=minutes, microseconds=micros),
    st.sampled_from([instant for _, instant in ZONED_TRANSITIONS]),
    st.one_of(st.integers(-180, 180), st.integers(-3 * 1440, 1440)),
    st.sampled_from([0, 0, 1, 30_000_000, 59_999_999]),
)
anywhere = st.datetimes(datetime(1990, 1, 1), datetime(2060, 1, 1), timezones=st.just(UTC))
afters = st.one_of(near_transitions, anywhere)
offsets = st.sampled_from([None, timedelta(0), timedelta(hours=5, minutes=30), -timedelta(hours=8)])


def is_fire(expr: Expr, instant: datetime, zone: ZoneInfo) -> bool:
    """The oracle: does the job fire at this instant?"""
    now = instant.astimezone(zone)
    wall = now.replace(tzinfo=None)
    if expr.matches(wall):
        # A fixed-time job does not fire again in the second pass of a repeated hour.
        return not (expr.fixed_time and now.fold == 1)
    if not expr.fixed_time:
        return False
    # A fixed-time job fires at the first instant after a gap that swallowed a match.
    jump = now.utcoffset() - (instant - timedelta(seconds=1)).astimezone(zone).utcoffset()
    skipped = wall - jump
    while skipped < wall:
        if expr.matches(skipped):
            return True
        skipped += MINUTE
    return False


def in_offset(after: datetime, zone: ZoneInfo, offset: timedelta | None) -> datetime:
    return after.astimezone(zone if offset is None else timezone(offset))


# Every-day expressions, asked just before transitions: most answers are in a gap or overlap.
daily_expressions = st.builds(
    Expr,
    FieldGen(0, 59, hot=(0, 1, 15, 29, 30, 45, 59), only_hot=True).strategy(),
    FieldGen(0, 23, hot=(0, 1, 2, 3, 23), only_hot=True).strategy(),
    st.just(Field("*", frozenset(range(1, 32)), starred=True)),
    st.just(Field("*", frozenset(range(1, 13)), starred=True)),
    st.just(Field("*", frozenset(range(8)), starred=True)),
)
zoned_just_before_transitions = st.builds(
    lambda zoned, seconds: (zoned[0], zoned[1] - timedelta(seconds=seconds)),
    st.sampled_from(ZONED_TRANSITIONS),
    # Up to an hour after, up to three hours before, and often inside a first pass.
    st.one_of(st.integers(-3600, 3 * 3600), st.integers(-3600, 3600), st.integers(1, 3600)),
)


@settings(max_examples=200, deadline=None)
@given(expr=expressions, after=afters, tz=st.sampled_from(ZONES), offset=offsets)
def test_next_fire_is_the_first_matching_instant_after(
    expr: Expr, after: datetime, tz: str, offset: timedelta | None
) -> None:
    check_next_fire(expr, after, tz, offset)


@settings(max_examples=200, deadline=None)
@given(expr=daily_expressions, zoned_after=zoned_just_before_transitions, offset=offsets)
def test_next_fire_across_transitions(
    expr: Expr, zoned_after: tuple[str, datetime], offset: timedelta | None
) -> None:
    tz, after = zoned_after
    check_next_fire(expr, after, tz, offset)


def check_next_fire(expr: Expr, after: datetime, tz: str, offset: timedelta | None) -> None:
    """The result is strictly later, fires by the oracle, and no fire time was skipped."""
    if not expr.can_fire():
        with pytest.raises(InvalidSchedule, match="never occurs"):
            parse_schedule(f"cron:{expr.text}", tz)
        return
    schedule = parse_schedule(f"cron:{expr.text}", tz)
    zone = ZoneInfo(tz)
    result = schedule.next_after(in_offset(after, zone, offset))

    assert result.tzinfo is UTC
    assert result > after
    assert (result.second, result.microsecond) == (0, 0)
    assert is_fire(expr, result, zone), f"{result} does not fire in {tz}"
    if result - after <= BRUTE_FORCE_LIMIT:
        # No fire time was skipped: no minute strictly between `after` and the result fires.
        instant = after.replace(second=0, microsecond=0) + MINUTE
        while instant < result:
            assert not is_fire(expr, instant, zone), f"skipped {instant} in {tz}"
            instant += MINUTE


@settings(max_examples=200, deadline=None)
@given(expr=expressions)
def test_normalized_expression_means_the_same_to_cronsim(expr: Expr) -> None:
    if not expr.can_fire():
        return
    schedule = parse_schedule(f"cron:{expr.text}")
    assert schedule.fixed_time == expr.fixed_time
    assert schedule.days_or == (not expr.days_and)
    # The normalized expression is what cronsim evaluates: its sets must be ours.
    sim = CronSim(schedule.expression, datetime(2000, 1, 1))
    assert sim.minutes == expr.minute.values
    assert sim.hours == expr.hour.values
    assert sim.days == expr.day.values
    assert sim.months == expr.month.values
    assert sim.weekdays == expr.weekday.values
    assert sim.day_and == expr.days_and
    assert describe(f"cron:{expr.text}")  # the explainer copes with every valid expression


@settings(max_examples=100, deadline=None)
@given(expr=expressions, after=afters, tz=st.sampled_from(ZONES))
def test_preview_is_strictly_increasing_and_consistent(
    expr: Expr, after: datetime, tz: str
) -> None:
    if not expr.can_fire():
        return
    schedule = parse_schedule(f"cron:{expr.text}", tz)
    fires = schedule.preview(after, 5)
    assert fires[0] == schedule.next_after(after)
    for earlier, later in itertools.pairwise(fires):
        assert earlier < later
        assert schedule.next_after(earlier) == later


def field(text: str, values: Iterable[int]) -> Field:
    return Field(text, frozenset(values), starred=text.startswith("*"))


ANY_DAY = (field("*", range(1, 32)), field("*", range(1, 13)), field("*", range(8)))
AROUND_TRANSITIONS = [
    Expr(field("*/15", range(0, 60, 15)), field("*", range(24)), *ANY_DAY),
    Expr(field("0,45", [0, 45]), field("*", range(24)), *ANY_DAY),
    Expr(field("*/20", range(0, 60, 20)), field("0-3,23", [0, 1, 2, 3, 23]), *ANY_DAY),
    Expr(field("10,40", [10, 40]), field("0-3,23", [0, 1, 2, 3, 23]), *ANY_DAY),
    Expr(field("0-59/10", range(0, 60, 10)), field("1,2", [1, 2]), *ANY_DAY),
    Expr(field("30", [30]), field("*/2", range(0, 24, 2)), *ANY_DAY),
    Expr(field("0", [0]), field("0", [0]), *ANY_DAY),
]


@pytest.mark.parametrize(("tz", "transition"), ZONED_TRANSITIONS)
@pytest.mark.parametrize("expr", AROUND_TRANSITIONS, ids=lambda expr: expr.text)
def test_every_minute_around_transitions(expr: Expr, tz: str, transition: datetime) -> None:
    """Exhaustively: `after` at each minute from 2 h before to 90 min after a transition."""
    zone = ZoneInfo(tz)
    start = transition - timedelta(hours=2)
    horizon = [start + k * MINUTE for k in range(2 * 24 * 60)]
    fires = [instant for instant in horizon if is_fire(expr, instant, zone)]
    schedule = parse_schedule(f"cron:{expr.text}", tz)
    for k in range(210):
        after = start + k * MINUTE + timedelta(seconds=30 if k % 7 == 0 else 0)
        expected = fires[bisect.bisect_right(fires, after)]
        assert schedule.next_after(after.astimezone(zone)) == expected, after.astimezone(zone)
