"""The schedule engine in UTC: aliases, every accepted cron feature, every rejection, the API."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest

from cronbase.schedule import (
    InvalidSchedule,
    Schedule,
    describe,
    next_fire,
    parse_schedule,
    preview,
    validate_timezone,
)
from cronbase.schedule.aliases import HOUR_STEPS, MINUTE_STEPS


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


WED = utc(2025, 1, 15, 10, 30)  # a Wednesday


def test_alias_steps_are_exactly_the_divisors() -> None:
    divisors_of_60 = tuple(n for n in range(1, 60) if 60 % n == 0)
    divisors_of_24 = tuple(n for n in range(1, 24) if 24 % n == 0)
    assert divisors_of_60 == MINUTE_STEPS
    assert divisors_of_24 == HOUR_STEPS


@pytest.mark.parametrize(
    ("schedule", "after", "expected"),
    [
        ("every_1_minutes", WED, utc(2025, 1, 15, 10, 31)),
        ("every_2_minutes", WED, utc(2025, 1, 15, 10, 32)),
        ("every_3_minutes", WED, utc(2025, 1, 15, 10, 33)),
        ("every_4_minutes", WED, utc(2025, 1, 15, 10, 32)),
        ("every_5_minutes", WED, utc(2025, 1, 15, 10, 35)),
        ("every_6_minutes", WED, utc(2025, 1, 15, 10, 36)),
        ("every_10_minutes", WED, utc(2025, 1, 15, 10, 40)),
        ("every_12_minutes", WED, utc(2025, 1, 15, 10, 36)),
        ("every_15_minutes", WED, utc(2025, 1, 15, 10, 45)),
        ("every_20_minutes", WED, utc(2025, 1, 15, 10, 40)),
        ("every_30_minutes", WED, utc(2025, 1, 15, 11, 0)),
        # Wall-clock, not interval: every_7 would drift, every_5 restarts at :00 each hour.
        ("every_5_minutes", utc(2025, 1, 15, 10, 58), utc(2025, 1, 15, 11, 0)),
        ("every_1_hours", WED, utc(2025, 1, 15, 11, 0)),
        ("every_2_hours", WED, utc(2025, 1, 15, 12, 0)),
        ("every_3_hours", WED, utc(2025, 1, 15, 12, 0)),
        ("every_4_hours", WED, utc(2025, 1, 15, 12, 0)),
        ("every_6_hours", WED, utc(2025, 1, 15, 12, 0)),
        ("every_8_hours", WED, utc(2025, 1, 15, 16, 0)),
        ("every_12_hours", WED, utc(2025, 1, 15, 12, 0)),
        ("every_8_hours", utc(2025, 1, 15, 16, 0), utc(2025, 1, 16, 0, 0)),
        ("hourly", WED, utc(2025, 1, 15, 11, 0)),
        ("daily", WED, utc(2025, 1, 16, 0, 0)),
        ("weekly", WED, utc(2025, 1, 20, 0, 0)),  # Monday, as in the seed
        (" daily\n", WED, utc(2025, 1, 16, 0, 0)),  # surrounding whitespace is stripped
    ],
)
def test_aliases(schedule: str, after: datetime, expected: datetime) -> None:
    assert next_fire(schedule, after) == expected


@pytest.mark.parametrize(
    ("schedule", "after", "expected"),
    [
        ("cron:@hourly", WED, utc(2025, 1, 15, 11, 0)),
        ("cron:@daily", WED, utc(2025, 1, 16, 0, 0)),
        ("cron:@midnight", WED, utc(2025, 1, 16, 0, 0)),
        ("cron:@weekly", WED, utc(2025, 1, 19, 0, 0)),  # cron's @weekly is Sunday
        ("cron:@monthly", WED, utc(2025, 2, 1, 0, 0)),
        ("cron:@yearly", WED, utc(2026, 1, 1, 0, 0)),
        ("cron:@annually", WED, utc(2026, 1, 1, 0, 0)),
        ("  cron: @daily ", WED, utc(2025, 1, 16, 0, 0)),
    ],
)
def test_macros(schedule: str, after: datetime, expected: datetime) -> None:
    assert next_fire(schedule, after) == expected


def test_weekly_alias_is_monday_but_weekly_macro_is_sunday() -> None:
    assert next_fire("weekly", WED).strftime("%A") == "Monday"
    assert next_fire("cron:@weekly", WED).strftime("%A") == "Sunday"


@pytest.mark.parametrize(
    ("schedule", "after", "expected"),
    [
        ("cron:0 2 * * *", WED, utc(2025, 1, 16, 2, 0)),
        ("cron:* * * * *", WED, utc(2025, 1, 15, 10, 31)),
        ("cron:30 10 * * *", WED, utc(2025, 1, 16, 10, 30)),  # strictly after
        ("cron:*/15 * * * *", WED, utc(2025, 1, 15, 10, 45)),
        ("cron:5,35 * * * *", WED, utc(2025, 1, 15, 10, 35)),
        ("cron:10-20 11 * * *", WED, utc(2025, 1, 15, 11, 10)),
        ("cron:0 9-17/4 * * *", WED, utc(2025, 1, 15, 13, 0)),  # 9, 13, 17
        ("cron:0 10/5 * * *", WED, utc(2025, 1, 15, 15, 0)),  # a/n: 10, 15, 20
        ("cron:0 22/5 * * *", WED, utc(2025, 1, 15, 22, 0)),
        ("cron:0 22/5 * * *", utc(2025, 1, 15, 22, 0), utc(2025, 1, 16, 22, 0)),
        ("cron:5-5/2 * * * *", WED, utc(2025, 1, 15, 11, 5)),  # only :05 (cronsim: 5-59/2)
        ("cron:1-2/5 * * * *", WED, utc(2025, 1, 15, 11, 1)),
        ("cron:0,*/20 * * * *", WED, utc(2025, 1, 15, 10, 40)),
        ("cron:05 02 * * *", WED, utc(2025, 1, 16, 2, 5)),  # leading zeros
        ("  cron:0   2\t* *  *  ", WED, utc(2025, 1, 16, 2, 0)),  # runs of spaces and tabs
        ("cron: 0 2 * * *", WED, utc(2025, 1, 16, 2, 0)),
        ("cron:0 0 1 * *", WED, utc(2025, 2, 1, 0, 0)),
        ("cron:0 0 1 JAN *", WED, utc(2026, 1, 1, 0, 0)),
        ("cron:0 0 1 jan *", WED, utc(2026, 1, 1, 0, 0)),
        ("cron:0 0 1 Mar *", WED, utc(2025, 3, 1, 0, 0)),
        ("cron:0 0 1 feb-APR *", WED, utc(2025, 2, 1, 0, 0)),
        ("cron:0 0 1 2-apr/2 *", utc(2025, 2, 1, 0, 0), utc(2025, 4, 1, 0, 0)),  # names + numbers
        ("cron:0 0 1 jan,dec *", WED, utc(2025, 12, 1, 0, 0)),
        ("cron:0 0 * * mon", WED, utc(2025, 1, 20, 0, 0)),
        ("cron:0 0 * * Mon", WED, utc(2025, 1, 20, 0, 0)),
        ("cron:0 0 * * MON", WED, utc(2025, 1, 20, 0, 0)),
        ("cron:0 0 * * 1", WED, utc(2025, 1, 20, 0, 0)),
        ("cron:0 0 * * 0", WED, utc(2025, 1, 19, 0, 0)),  # Sunday as 0
        ("cron:0 0 * * 7", WED, utc(2025, 1, 19, 0, 0)),  # and as 7
        ("cron:0 0 * * sun", WED, utc(2025, 1, 19, 0, 0)),
        ("cron:0 0 * * 1-5", utc(2025, 1, 17, 12, 0), utc(2025, 1, 20, 0, 0)),
        ("cron:0 0 * * mon-fri", utc(2025, 1, 17, 12, 0), utc(2025, 1, 20, 0, 0)),
        ("cron:0 0 * * 6-7", WED, utc(2025, 1, 18, 0, 0)),
        # cronie's exception: a day-of-week range ending in Sunday runs to the week's end.
        ("cron:0 0 * * FRI-SUN", WED, utc(2025, 1, 17, 0, 0)),
        ("cron:0 0 * * fri-sun", utc(2025, 1, 18, 12, 0), utc(2025, 1, 19, 0, 0)),
        ("cron:0 0 * * 5-0", utc(2025, 1, 18, 12, 0), utc(2025, 1, 19, 0, 0)),
        ("cron:0 0 * * 5-0", utc(2025, 1, 19, 12, 0), utc(2025, 1, 24, 0, 0)),
        ("cron:0 0 * * mon-0", WED, utc(2025, 1, 16, 0, 0)),
        ("cron:0 0 * * 1-7/2", WED, utc(2025, 1, 17, 0, 0)),  # Mon, Wed, Fri, Sun
        ("cron:0 0 * * */3", WED, utc(2025, 1, 18, 0, 0)),  # Sun, Wed, Sat
        # The leap day fires in leap years only.
        ("cron:0 0 29 2 *", WED, utc(2028, 2, 29, 0, 0)),
        ("cron:0 0 29 2 *", utc(2028, 2, 29, 0, 0), utc(2032, 2, 29, 0, 0)),
        ("cron:0 0 31 * *", WED, utc(2025, 1, 31, 0, 0)),
        ("cron:0 0 31 * *", utc(2025, 1, 31, 0, 0), utc(2025, 3, 31, 0, 0)),
        ("cron:0 0 29,31 4 *", WED, utc(2025, 4, 29, 0, 0)),
        # Rare but possible: February 29th that is a Sunday (AND, as dow starts with *).
        ("cron:0 0 29 2 */7", WED, utc(2032, 2, 29, 0, 0)),
    ],
)
def test_cron_features(schedule: str, after: datetime, expected: datetime) -> None:
    assert next_fire(schedule, after) == expected


@pytest.mark.parametrize(
    ("schedule", "after", "expected"),
    [
        # Both day fields restricted: the 13th OR a Friday.
        ("cron:0 0 13 * 5", WED, utc(2025, 1, 17, 0, 0)),
        ("cron:0 0 13 * 5", utc(2025, 2, 8, 0, 0), utc(2025, 2, 13, 0, 0)),  # a Thursday
        ("cron:0 0 13 * fri", utc(2025, 2, 8, 0, 0), utc(2025, 2, 13, 0, 0)),
        # Day-of-month `*`: only the weekday counts.
        ("cron:0 0 * * 5", WED, utc(2025, 1, 17, 0, 0)),
        # `*/2` starts with * so counts as unrestricted: odd days AND Mondays (Jan 20 is even).
        ("cron:0 0 */2 * 1", WED, utc(2025, 1, 27, 0, 0)),
        # The same days written without the star are restricted: odd days OR Mondays.
        ("cron:0 0 1-31/2 * 1", WED, utc(2025, 1, 17, 0, 0)),
        # Day-of-week `*/2` (Sun, Tue, Thu, Sat) AND the 13th; without the star, OR.
        ("cron:0 0 13 * */2", WED, utc(2025, 2, 13, 0, 0)),
        ("cron:0 0 13 * 0,2,4,6", WED, utc(2025, 1, 16, 0, 0)),
        # The star must come first: `5,*/2` is restricted (cronie looks at the first char).
        ("cron:0 0 13 * 5,*/2", WED, utc(2025, 1, 16, 0, 0)),
        # OR also rescues a day-of-month that never occurs in the month.
        ("cron:0 0 30 2 mon", utc(2025, 1, 31, 0, 0), utc(2025, 2, 3, 0, 0)),
    ],
)
def test_day_of_month_and_day_of_week(schedule: str, after: datetime, expected: datetime) -> None:
    assert next_fire(schedule, after) == expected


@pytest.mark.parametrize(
    ("schedule", "after", "expected", "description"),
    [
        # As in Debian's cron: a step past the end of its range sets only the first value.
        ("cron:0 */30 * * *", WED, utc(2025, 1, 16, 0, 0), "At 00:00 every day"),
        ("cron:*/60 * * * *", WED, utc(2025, 1, 15, 11, 0), "At the start of every hour"),
        ("cron:0 0 */100 * *", WED, utc(2025, 2, 1, 0, 0), "At 00:00 on every 100th day"),
        ("cron:0 0 5/40 * *", WED, utc(2025, 2, 5, 0, 0), "At 00:00 on the fifth day"),
        ("cron:0 8-18/20 * * *", WED, utc(2025, 1, 16, 8, 0), "At 08:00 every day"),
        ("cron:0 0 1 */13 *", WED, utc(2026, 1, 1, 0, 0), "At 00:00 on January 1"),
        ("cron:0 0 * * */8", WED, utc(2025, 1, 19, 0, 0), "every eighth day of week"),
        ("cron:0 0 * * */99999999999999999999", WED, utc(2025, 1, 19, 0, 0), "every"),
        # `*/100` still starts with `*`: day 1 AND a Monday (September 1st, 2025).
        ("cron:0 0 */100 * 1", WED, utc(2025, 9, 1, 0, 0), "if it's on Monday"),
    ],
)
def test_a_step_larger_than_its_field_matches_the_first_value_of_its_range(
    schedule: str, after: datetime, expected: datetime, description: str
) -> None:
    assert next_fire(schedule, after) == expected
    assert description in describe(schedule)


def test_a_starred_field_with_a_large_step_keeps_its_wildcard_dst_behaviour() -> None:
    # `0 */30` fires only at 00:00, but its hour starts with `*`: a wildcard job, as in cronie.
    assert parse_schedule("cron:0 */30 * * *").fixed_time is False
    assert parse_schedule("cron:0 0 * * *").fixed_time is True


@pytest.mark.parametrize(
    ("schedule", "fragments"),
    [
        ("", ["empty", "every_N_minutes", "cron:"]),
        ("   ", ["empty"]),
        ("every_7_minutes", ["N = 7", "every_N_minutes", "1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30"]),
        ("every_90_minutes", ["N = 90", "divide 60"]),
        ("every_0_minutes", ["N = 0", "1, 2, 3"]),
        ("every_05_minutes", ["N = 05"]),
        ("every_60_minutes", ["hourly"]),
        ("every_5_hours", ["N = 5", "every_N_hours", "1, 2, 3, 4, 6, 8, 12"]),
        ("every_24_hours", ["daily"]),
        ("every_1_minute", ["unknown schedule", "every_N_minutes"]),
        ("every 5 minutes", ["unknown schedule"]),
        ("monthly", ["unknown schedule", "hourly, daily, weekly"]),
        ("Daily", ["lowercase", "'daily'"]),
        ("EVERY_5_MINUTES", ["lowercase", "'every_5_minutes'"]),
        ("0 2 * * *", ["'cron:0 2 * * *'"]),
        ("@daily", ["'cron:@daily'"]),
        ("CRON:0 2 * * *", ["lowercase", "'cron:0 2 * * *'"]),
        ("cron:", ["expected 5 fields (minute hour day-of-month month day-of-week)"]),
        ("cron:  ", ["expected 5 fields"]),
        ("cron:0 2 * *", ["expected 5 fields (minute hour day-of-month month day-of-week), got 4"]),
        ("cron:0 0 2 * * *", ["got 6", "seconds"]),
        ("cron:0 0 2 * * * 2025", ["got 7"]),
        ("cron:0 2 * * * extra", ["got 6"]),
        ("cron:0 2 * * *\nrm -rf", ["got 6"]),  # the newline does not separate fields
        ("cron:61 * * * *", ["minute field: 61 is out of range 0-59"]),
        ("cron:0 24 * * *", ["hour field: 24 is out of range 0-23"]),
        ("cron:0 0 0 * *", ["day-of-month field: 0 is out of range 1-31"]),
        ("cron:0 0 32 * *", ["day-of-month field: 32 is out of range 1-31"]),
        ("cron:0 0 * 0 *", ["month field: 0 is out of range 1-12"]),
        ("cron:0 0 * 13 *", ["month field: 13 is out of range 1-12"]),
        ("cron:0 0 * * 8", ["day-of-week field: 8 is out of range 0-7", "Sunday"]),
        ("cron:1-60 * * * *", ["minute field: 60 is out of range 0-59"]),
        ("cron:99999999999999999999 * * * *", ["minute field", "out of range 0-59"]),
        ("cron:0 5-2 * * *", ["hour field: range 5-2 is reversed"]),
        ("cron:0 0 * DEC-JAN *", ["month field: range DEC-JAN is reversed"]),
        ("cron:0 0 * * SAT-MON", ["day-of-week field: range SAT-MON is reversed"]),
        ("cron:0 0 * * 6-1", ["day-of-week field: range 6-1 is reversed"]),
        ("cron:*/0 * * * *", ["minute field: step 0", "1 or more"]),
        ("cron:0 0-23/0 * * *", ["hour field: step 0", "1 or more"]),
        ("cron:0 0 * */00 *", ["month field: step 00", "1 or more"]),
        ("cron:*/-1 * * * *", ["minute field", "step", "whole number"]),
        ("cron:*/ * * * *", ["minute field", "step", "number"]),
        ("cron:*/x * * * *", ["minute field", "step", "number"]),
        ("cron:*/5/2 * * * *", ["minute field", "step"]),
        ("cron:0 0 * * MONDAY", ["day-of-week field", "3-letter names like MON"]),
        ("cron:0 0 * January *", ["month field", "3-letter names like JAN"]),
        ("cron:0 0 * MON *", ["month field", "'MON' is not a month name", "JAN"]),
        ("cron:0 0 * * JAN", ["day-of-week field", "'JAN' is not a day-of-week name", "SUN"]),
        ("cron:0 0 * * XYZ", ["day-of-week field", "'XYZ'"]),
        ("cron:MON 0 * * *", ["minute field", "names", "0-59"]),
        ("cron:0 0 mon * *", ["day-of-month field", "names", "1-31"]),
        ("cron:0 0 30 2 *", ["day-of-month 30 never occurs in February"]),
        ("cron:0 0 31 4,6,9,11 *", ["day-of-month 31 never occurs in April, June, September"]),
        ("cron:0 0 30,31 feb *", ["day-of-month 30,31 never occurs in February"]),
        ("cron:0 0 30 2 */2", ["never occurs in February"]),  # AND: dow starts with *
        ("cron:0 0 L * *", ["day-of-month field", "not supported"]),
        ("cron:0 0 LW * *", ["day-of-month field", "not supported"]),
        ("cron:0 0 15W * *", ["day-of-month field", "not supported"]),
        ("cron:0 0 * * 5L", ["day-of-week field", "not supported"]),
        ("cron:0 0 * * MON#2", ["day-of-week field", "not supported"]),
        ("cron:0 0 ? * *", ["day-of-month field", "not supported"]),
        ("cron:1,,2 * * * *", ["minute field", "empty item"]),
        ("cron:1, * * * *", ["minute field", "empty item"]),
        ("cron:-5 * * * *", ["minute field", "'-5'"]),
        ("cron:5- * * * *", ["minute field", "'5-'"]),
        ("cron:*-5 * * * *", ["minute field", "'*-5'"]),
        ("cron:1-2-3 * * * *", ["minute field", "'1-2-3'"]),
        ("cron:+5 * * * *", ["minute field", "'+5'"]),
        ("cron:\u0663 * * * *", ["minute field"]),  # an Arabic-Indic digit is not a digit here
        ("cron:0\u00a02 * * *", ["expected 5 fields"]),  # only spaces and tabs separate
        ("cron:@reboot", ["@reboot is not supported"]),
        ("cron:@DAILY", ["lowercase", "'@daily'"]),
        ("cron:@daily 0", ["unexpected text after '@daily'"]),
        ("cron:@fortnightly", ["unknown macro", "@hourly", "@annually"]),
        ("cron:" + "1," * 600 + "1 * * * *", ["longer than 1000 characters"]),
    ],
)
def test_rejections(schedule: str, fragments: list[str]) -> None:
    with pytest.raises(InvalidSchedule) as caught:
        parse_schedule(schedule)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message
    assert isinstance(caught.value, ValueError)
    assert caught.value.reason in message


@pytest.mark.parametrize("schedule", [None, 5, b"daily", ["daily"]])
def test_non_string_schedule_is_rejected(schedule: object) -> None:
    with pytest.raises(InvalidSchedule, match="must be a string"):
        parse_schedule(schedule)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("schedule", "expression", "fixed_time", "days_or"),
    [
        ("every_5_minutes", "*/5 * * * *", False, False),
        ("every_1_minutes", "* * * * *", False, False),
        ("every_2_hours", "0 */2 * * *", False, False),
        ("hourly", "0 * * * *", False, False),
        ("daily", "0 0 * * *", True, False),
        ("weekly", "0 0 * * 1", True, False),
        ("cron:@weekly", "0 0 * * 0", True, False),
        ("cron:@yearly", "0 0 1 1 *", True, False),
        ("cron:0 0 * * FRI-SUN", "0 0 * * 5-7", True, False),
        ("cron:0 0 * jan,Feb mon-fri", "0 0 * 1,2 1-5", True, False),
        ("cron:5-5/2 * * * *", "5 * * * *", False, False),
        ("cron:10/20 * * * *", "10-59/20 * * * *", False, False),
        ("cron:*/1 */1 * * *", "* * * * *", False, False),
        ("cron:00 02  *\t* *", "0 2 * * *", True, False),
        # cronie's "fixed-time" looks at the first character only: 0-59 is fixed, */5 is not.
        ("cron:0-59 2 * * *", "0-59 2 * * *", True, False),
        ("cron:*/5 2 * * *", "*/5 2 * * *", False, False),
        ("cron:0 */2 * * *", "0 */2 * * *", False, False),
        ("cron:0 0 13 * 5", "0 0 13 * 5", True, True),
        ("cron:0 0 */2 * 1", "0 0 */2 * 1", True, False),
    ],
)
def test_parse_schedule_normalizes(
    schedule: str, expression: str, fixed_time: bool, days_or: bool
) -> None:
    parsed = parse_schedule(schedule)
    assert (parsed.expression, parsed.fixed_time, parsed.days_or) == (
        expression,
        fixed_time,
        days_or,
    )
    assert parsed.tz == "UTC"
    assert parsed.source == schedule.strip()


def test_parse_schedule_is_frozen_and_cached() -> None:
    parsed = parse_schedule("daily", "Europe/Berlin")
    assert isinstance(parsed, Schedule)
    assert parse_schedule("daily", "Europe/Berlin") is parsed
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.expression = "* * * * *"  # type: ignore[misc]
    assert parsed.next_after(WED) == next_fire("daily", WED, "Europe/Berlin")


@pytest.mark.parametrize(
    ("tz", "expected"),
    [(None, "UTC"), ("UTC", "UTC"), ("Europe/Berlin", "Europe/Berlin"), ("Etc/UTC", "Etc/UTC")],
)
def test_validate_timezone(tz: str | None, expected: str) -> None:
    assert validate_timezone(tz) == expected


@pytest.mark.parametrize(
    ("tz", "fragment"),
    [
        ("Mars/Base", "unknown time zone 'Mars/Base': use an IANA name such as 'UTC'"),
        ("", "empty"),
        ("   ", "empty"),
        ("../etc", "unknown time zone '../etc'"),
        ("/etc/passwd", "unknown time zone"),
        ("Europe/../UTC", "unknown time zone"),
        ("America", "unknown time zone"),  # a directory of the tz database
        ("localtime", "unknown time zone"),  # the host's zone: not portable
        ("posixrules", "unknown time zone"),
        ("Europe/Berlin\x00", "unknown time zone"),
        ("europe/berlin", "did you mean 'Europe/Berlin'?"),
        (" UTC", "did you mean 'UTC'?"),
    ],
)
def test_invalid_timezones(tz: str, fragment: str) -> None:
    with pytest.raises(InvalidSchedule) as caught:
        validate_timezone(tz)
    assert fragment in str(caught.value)
    # The schedule functions report the same problem, naming the schedule.
    with pytest.raises(InvalidSchedule) as caught:
        next_fire("daily", WED, tz)
    assert fragment in str(caught.value)
    assert "'daily'" in str(caught.value)


def test_non_string_timezone_is_rejected() -> None:
    with pytest.raises(InvalidSchedule, match="must be a string"):
        validate_timezone(5)  # type: ignore[arg-type]
    with pytest.raises(InvalidSchedule, match="must be a string"):
        parse_schedule("daily", 5)  # type: ignore[arg-type]


IST = timezone(timedelta(hours=5, minutes=30))


@pytest.mark.parametrize(
    ("schedule", "after", "expected"),
    [
        # `after` may be in any offset; the result is always UTC.
        ("daily", datetime(2025, 1, 15, 16, 0, tzinfo=IST), utc(2025, 1, 16, 0, 0)),
        ("cron:0 2 * * *", datetime(2025, 1, 16, 7, 29, tzinfo=IST), utc(2025, 1, 16, 2, 0)),
        ("cron:0 2 * * *", datetime(2025, 1, 16, 7, 30, tzinfo=IST), utc(2025, 1, 17, 2, 0)),
        # Strictly after, whatever the microseconds.
        ("hourly", utc(2025, 1, 15, 11, 0), utc(2025, 1, 15, 12, 0)),
        ("hourly", utc(2025, 1, 15, 10, 59, 59, 999999), utc(2025, 1, 15, 11, 0)),
        ("hourly", utc(2025, 1, 15, 11, 0, 0, 1), utc(2025, 1, 15, 12, 0)),
        ("every_1_minutes", utc(2025, 1, 15, 11, 0, 30), utc(2025, 1, 15, 11, 1)),
        ("cron:59 23 31 12 *", utc(2025, 12, 31, 23, 58), utc(2025, 12, 31, 23, 59)),
        ("cron:59 23 31 12 *", utc(2025, 12, 31, 23, 59), utc(2026, 12, 31, 23, 59)),
    ],
)
def test_after_in_any_offset_and_strictly_after(
    schedule: str, after: datetime, expected: datetime
) -> None:
    result = next_fire(schedule, after)
    assert result == expected
    assert result.tzinfo is UTC


def test_naive_after_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_fire("daily", datetime(2025, 1, 15))
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_schedule("daily").next_after(datetime(2025, 1, 15))
    with pytest.raises(ValueError, match="timezone-aware"):
        preview("daily", datetime(2025, 1, 15), 3)
    with pytest.raises(TypeError, match="datetime"):
        next_fire("daily", "2025-01-15")  # type: ignore[arg-type]


def test_no_fire_time_before_the_year_10000() -> None:
    with pytest.raises(ValueError, match="no fire time"):
        next_fire("cron:0 0 1 1 *", utc(9999, 6, 1))
    assert next_fire("cron:0 0 31 12 *", utc(9999, 6, 1)) == utc(9999, 12, 31)


def test_preview() -> None:
    assert preview("every_15_minutes", WED, 4) == [
        utc(2025, 1, 15, 10, 45),
        utc(2025, 1, 15, 11, 0),
        utc(2025, 1, 15, 11, 15),
        utc(2025, 1, 15, 11, 30),
    ]
    assert preview("weekly", WED, 2, "Europe/Berlin") == [
        utc(2025, 1, 19, 23, 0),
        utc(2025, 1, 26, 23, 0),
    ]
    assert preview("cron:0 0 29 2 *", WED, 1) == [utc(2028, 2, 29)]


def test_preview_of_the_maximum_count_is_strictly_increasing() -> None:
    fires = preview("cron:*/7 * * * *", WED, 1000)
    assert len(fires) == 1000
    assert all(a < b for a, b in itertools.pairwise(fires))
    assert fires[0] == utc(2025, 1, 15, 10, 35)
    assert all(fire.minute % 7 == 0 for fire in fires)


@pytest.mark.parametrize("count", [0, -1, 1001])
def test_preview_rejects_bad_counts(count: int) -> None:
    with pytest.raises(ValueError, match="between 1 and 1000"):
        preview("daily", WED, count)


def test_preview_rejects_non_int_counts() -> None:
    with pytest.raises(TypeError):
        preview("daily", WED, 2.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        preview("daily", WED, True)


@pytest.mark.parametrize(
    ("schedule", "tz", "expected"),
    [
        ("cron:0 2 * * *", None, "At 02:00 every day"),
        ("cron:0 2 * * *", "UTC", "At 02:00 every day"),
        ("daily", "Europe/Berlin", "At 00:00 every day (Europe/Berlin)"),
        ("every_5_minutes", None, "Every fifth minute of every hour"),
        ("every_1_minutes", None, "Every minute"),
        ("every_2_hours", None, "At minute 0 past every second hour"),
        ("hourly", None, "At the start of every hour"),
        ("weekly", None, "At 00:00 on Monday"),
        ("cron:@weekly", None, "At 00:00 on Sunday"),
        ("cron:@monthly", None, "At 00:00 on the first day of every month"),
        ("cron:@yearly", "America/New_York", "At 00:00 on January 1 (America/New_York)"),
        ("cron:0 0 * * FRI-SUN", None, "At 00:00 on Friday through Sunday"),
        ("cron:0 0 * * 7", None, "At 00:00 on Sunday"),
        ("cron:0 0 29 feb *", None, "At 00:00 on February 29"),
        ("cron:0 0 13 * 5", None, "At 00:00 on the 13th day of month and on Friday"),
        ("cron:0 0 */2 * 1", None, "At 00:00 on every second day of month if it's on Monday"),
        (
            "cron:30 9-17 * * mon-fri",
            None,
            "At minute 30 past every hour from 9 through 17 on Monday through Friday",
        ),
    ],
)
def test_describe(schedule: str, tz: str | None, expected: str) -> None:
    assert describe(schedule, tz) == expected


def test_describe_rejects_invalid_schedules() -> None:
    with pytest.raises(InvalidSchedule, match="minute field"):
        describe("cron:61 * * * *")
    with pytest.raises(InvalidSchedule, match="Mars/Base"):
        describe("daily", "Mars/Base")


def test_on_demand_never_fires() -> None:
    schedule = parse_schedule("on_demand", "Europe/Berlin")
    assert schedule.on_demand
    assert schedule.next_after(datetime(2026, 1, 1, tzinfo=UTC)) is None
    assert schedule.preview(datetime(2026, 1, 1, tzinfo=UTC), 5) == []
    assert describe("on_demand").startswith("On demand")
    with pytest.raises(InvalidSchedule, match="aliases are lowercase: use 'on_demand'"):
        parse_schedule("On_Demand")
