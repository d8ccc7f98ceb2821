"""Parse and validate schedules, and compute their fire times.

A schedule is an alias (`every_5_minutes`, `hourly`, `daily`, `weekly`, ...) or `cron:` and a
standard 5-field expression (or a macro such as `cron:@daily`), with the semantics of cronie
(Debian's cron, crontab(5)); every field is wall-clock time in the job's IANA zone.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError

from cronbase.errors import InvalidSchedule
from cronbase.schedule.aliases import (
    ALLOWED_FORMS,
    ON_DEMAND,
    expand_alias,
    expand_macro,
    hint_for_unknown,
)
from cronbase.schedule.fields import FIELDS, FieldError, ParsedField, parse_field
from cronbase.schedule.walltime import NoFireTime, next_instant
from cronbase.schedule.zones import load_zone, validate_timezone

MAX_PREVIEW = 1000
# Schedules are stored in a column and cached here; nothing legitimate comes close to this.
MAX_LENGTH = 1000
_FIELD_SEPARATOR = re.compile(r"[ \t]+")
_FIELD_NAMES = "minute hour day-of-month month day-of-week"
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# February counts 29 days: `0 0 29 2 *` is valid and fires in leap years.
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True, slots=True)
class Schedule:
    """A validated schedule, ready to compute fire times without parsing again.

    `expression` is the normalized 5-field numeric cron expression (names replaced by numbers,
    aliases and macros expanded); `fixed_time` is cronie's "neither the minute nor the hour
    field starts with *" (it decides the DST behaviour); `days_or` is true when day-of-month
    and day-of-week are OR-ed (neither starts with *). An `on_demand` schedule has no
    expression and no fire time: next_after gives None and preview nothing.
    """

    source: str
    expression: str
    tz: str
    fixed_time: bool
    days_or: bool
    zone: ZoneInfo = field(repr=False, compare=False)
    on_demand: bool = False

    def next_after(self, after: datetime) -> datetime | None:
        """The first fire instant strictly after the aware datetime `after`, in UTC; None for
        an on_demand schedule, which never fires on its own.

        Raises ValueError if `after` is naive, or if no fire time exists before the year 10000.
        """
        _require_aware(after)
        if self.on_demand:
            return None
        try:
            # Keyed in UTC: aware datetimes in one zone compare equal across a DST fold.
            utc = after.astimezone(UTC)
            return _next_instant(self.expression, self.zone, self.fixed_time, utc)
        except (NoFireTime, OverflowError) as exc:
            raise NoFireTime(
                f"schedule {self.source!r} has no fire time after {after.isoformat()} "
                "before the year 10000"
            ) from exc

    def preview(self, after: datetime, count: int) -> list[datetime]:
        """The next `count` (1-1000) fire instants after `after`, in UTC, strictly increasing."""
        if isinstance(count, bool) or not isinstance(count, int):
            raise TypeError(f"count must be an int, not {type(count).__name__}")
        if not 1 <= count <= MAX_PREVIEW:
            raise ValueError(f"count must be between 1 and {MAX_PREVIEW}, got {count}")
        fires: list[datetime] = []
        for _ in range(count):
            fire = self.next_after(after)
            if fire is None:  # on_demand
                break
            fires.append(fire)
            after = fire
        return fires


def parse_schedule(schedule: str, tz: str | None = None) -> Schedule:
    """Validate `schedule` in zone `tz` (None means UTC) once, and return a Schedule.

    Raises InvalidSchedule, whose message says which part is wrong and what is allowed.
    Results are cached on (schedule, tz): parsing is pure.
    """
    if not isinstance(schedule, str):
        raise InvalidSchedule(
            repr(schedule), f"the schedule must be a string, not {type(schedule).__name__}"
        )
    if tz is not None and not isinstance(tz, str):
        validate_timezone(tz)  # raises with a clear message
    return _parse_cached(schedule, tz)


def next_fire(schedule: str, after: datetime, tz: str | None = None) -> datetime | None:
    """The first fire instant of `schedule` strictly after the aware datetime `after`.

    Returns an aware UTC datetime (None for on_demand). Raises InvalidSchedule for a bad schedule or zone, and
    ValueError if `after` is naive.
    """
    _require_aware(after)
    return parse_schedule(schedule, tz).next_after(after)


def preview(schedule: str, after: datetime, count: int, tz: str | None = None) -> list[datetime]:
    """The next `count` fire instants (UTC, each strictly after the previous one).

    Raises ValueError unless 1 <= count <= 1000, and as next_fire() does.
    """
    _require_aware(after)
    return parse_schedule(schedule, tz).preview(after, count)


# A burst of jobs with the same schedule, due at the same instant and claimed at the same
# instant, asks the same question many times: answer it once.
_next_instant = functools.lru_cache(maxsize=4096)(next_instant)


@functools.lru_cache(maxsize=16384)
def _parse_cached(schedule: str, tz: str | None) -> Schedule:
    try:
        zone_name = validate_timezone(tz)
        zone = load_zone(zone_name)
    except InvalidSchedule as exc:
        raise InvalidSchedule(schedule, exc.reason) from None
    text = schedule.strip()
    if text == ON_DEMAND:
        return Schedule(text, "", zone_name, False, False, zone, on_demand=True)
    fields = _parse_fields(schedule, _to_cron(schedule, text))
    _check_can_fire(schedule, fields)
    expression = " ".join(parsed.render() for parsed in fields)
    _check_cronsim_agrees(schedule, expression)
    minute, hour, day, _, weekday = fields
    return Schedule(
        source=text,
        expression=expression,
        tz=zone_name,
        fixed_time=not (minute.starred or hour.starred),
        days_or=not (day.starred or weekday.starred),
        zone=zone,
    )


def _to_cron(schedule: str, text: str) -> str:
    """The 5-field cron expression text for an alias, a macro or `cron:...`."""
    if not text:
        raise InvalidSchedule(schedule, f"the schedule is empty; {ALLOWED_FORMS}")
    if len(text) > MAX_LENGTH:
        raise InvalidSchedule(schedule[:40] + "...", f"longer than {MAX_LENGTH} characters")
    if text.startswith("cron:"):
        body = text[len("cron:") :].strip()
        if not body:
            raise InvalidSchedule(
                schedule, f"nothing after 'cron:'; expected 5 fields ({_FIELD_NAMES})"
            )
        return expand_macro(schedule, body) if body.startswith("@") else body
    expression = expand_alias(text)
    if expression is None:
        raise InvalidSchedule(schedule, hint_for_unknown(text))
    return expression


def _parse_fields(schedule: str, body: str) -> tuple[ParsedField, ...]:
    parts = _FIELD_SEPARATOR.split(body)
    if len(parts) != len(FIELDS):
        extra = " (seconds and years are not supported)" if len(parts) in (6, 7) else ""
        raise InvalidSchedule(
            schedule, f"expected 5 fields ({_FIELD_NAMES}), got {len(parts)}{extra}"
        )
    try:
        return tuple(parse_field(spec, part) for spec, part in zip(FIELDS, parts, strict=True))
    except FieldError as exc:
        raise InvalidSchedule(schedule, str(exc)) from None


def _check_can_fire(schedule: str, fields: tuple[ParsedField, ...]) -> None:
    """Reject day/month combinations that never occur, like `0 0 30 2 *`.

    Only when the days are AND-ed (one of the day fields starts with *): with OR semantics the
    day-of-week alone makes the job fire. Any day that fits the month occurs on every weekday
    in some year, so the day-of-week cannot make an AND-ed schedule impossible.
    """
    _, _, day, month, weekday = fields
    if not (day.starred or weekday.starred):
        return
    if any(d <= _DAYS_IN_MONTH[m - 1] for m in month.values for d in day.values):
        return
    days = ",".join(map(str, sorted(day.values)))
    months = _join_words([_MONTH_NAMES[m - 1] for m in sorted(month.values)])
    raise InvalidSchedule(
        schedule, f"day-of-month {days} never occurs in {months}, so this schedule never fires"
    )


def _check_cronsim_agrees(schedule: str, expression: str) -> None:
    # Our own checks are stricter than cronsim's, so this never fires for a validated
    # expression; it guards against an upgrade of cronsim that rejects what we accept.
    try:
        CronSim(expression, datetime(2000, 1, 1))
    except CronSimError as exc:
        raise InvalidSchedule(schedule, f"the cron engine rejected {expression!r}: {exc}") from exc


def _require_aware(after: object) -> None:
    if not isinstance(after, datetime):
        raise TypeError(f"after must be a datetime, not {type(after).__name__}")
    if after.tzinfo is None or after.utcoffset() is None:
        raise ValueError(
            f"after must be a timezone-aware datetime, got the naive {after.isoformat()}; "
            "attach a zone, e.g. datetime(..., tzinfo=UTC)"
        )


def _join_words(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
