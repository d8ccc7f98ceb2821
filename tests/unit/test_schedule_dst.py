"""Daylight-saving behaviour: cronie's rules, checked transition by transition.

The transitions used (all 2025):
- Europe/Berlin:       spring 30 Mar 02:00 CET -> 03:00 CEST (01:00 UTC);
                       fall   26 Oct 03:00 CEST -> 02:00 CET (01:00 UTC), 02:00-02:59 twice.
- America/New_York:    spring  9 Mar 02:00 EST -> 03:00 EDT (07:00 UTC);
                       fall    2 Nov 02:00 EDT -> 01:00 EST (06:00 UTC), 01:00-01:59 twice.
- Australia/Lord_Howe: spring  5 Oct 02:00 +10:30 -> 02:30 +11 (4 Oct 15:30 UTC);
                       fall    6 Apr 02:00 +11 -> 01:30 +10:30 (5 Apr 15:00 UTC), a 30-minute
                       shift: 01:30-01:59 twice.
- America/Santiago:    spring  7 Sep 00:00 -04 -> 01:00 -03 (04:00 UTC): midnight is skipped.

Rules (crontab(5)): a fixed-time job (neither minute nor hour starts with *) whose time falls
in a gap fires once at the first instant after it, and fires only on the first pass of a
repeated hour; a wildcard job follows the wall clock (nothing in the gap, both passes).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from cronsim import CronSim

from cronbase.schedule import next_fire, parse_schedule, preview

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
LORD_HOWE = "Australia/Lord_Howe"
SANTIAGO = "America/Santiago"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def local(tz: str, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(tz), fold=fold)  # type: ignore[misc]


class TestDaylightSaving:
    @pytest.mark.parametrize(
        ("schedule", "tz", "after", "expected"),
        [
            # Fixed time in the gap: 02:30 does not exist, fire at 03:00 CEST, then as usual.
            (
                "cron:30 2 * * *",
                BERLIN,
                utc(2025, 3, 29, 12),
                [utc(2025, 3, 30, 1, 0), utc(2025, 3, 31, 0, 30)],
            ),
            # Several fixed times in the gap collapse into one fire.
            (
                "cron:0,30 2 * * *",
                BERLIN,
                utc(2025, 3, 29, 12),
                [utc(2025, 3, 30, 1, 0), utc(2025, 3, 31, 0, 0)],
            ),
            # A gap fire that coincides with a real match fires once, then 03:30 as usual.
            (
                "cron:0,30 2,3 * * *",
                BERLIN,
                utc(2025, 3, 29, 12),
                [utc(2025, 3, 30, 1, 0), utc(2025, 3, 30, 1, 30), utc(2025, 3, 31, 0, 0)],
            ),
            # `0-59` does not start with *, so cronie treats it as fixed-time too.
            (
                "cron:0-59 2 * * *",
                BERLIN,
                utc(2025, 3, 29, 12),
                [utc(2025, 3, 30, 1, 0), utc(2025, 3, 31, 0, 0)],
            ),
            (
                "cron:30 2 * * *",
                NEW_YORK,
                utc(2025, 3, 8, 12),
                [utc(2025, 3, 9, 7, 0), utc(2025, 3, 10, 6, 30)],
            ),
            # Lord Howe skips only 02:00-02:29: 02:15 moves to 02:30, 02:45 is untouched.
            (
                "cron:15,45 2 * * *",
                LORD_HOWE,
                utc(2025, 10, 4, 12),
                [utc(2025, 10, 4, 15, 30), utc(2025, 10, 4, 15, 45), utc(2025, 10, 5, 15, 15)],
            ),
            # Santiago skips midnight itself: daily fires at 01:00 -03.
            (
                "daily",
                SANTIAGO,
                utc(2025, 9, 6, 12),
                [utc(2025, 9, 7, 4, 0), utc(2025, 9, 8, 3, 0)],
            ),
        ],
    )
    def test_fixed_time_in_gap_fires_once_after_it(
        self, schedule: str, tz: str, after: datetime, expected: list[datetime]
    ) -> None:
        assert preview(schedule, after, len(expected), tz) == expected

    @pytest.mark.parametrize(
        ("schedule", "tz", "after", "expected"),
        [
            # 02:30 happens twice (00:30 and 01:30 UTC); the job runs the first time only.
            (
                "cron:30 2 * * *",
                BERLIN,
                utc(2025, 10, 25, 12),
                [utc(2025, 10, 26, 0, 30), utc(2025, 10, 27, 1, 30)],
            ),
            (
                "cron:0-59/20 2 * * *",
                BERLIN,
                utc(2025, 10, 25, 12),
                [
                    utc(2025, 10, 26, 0, 0),
                    utc(2025, 10, 26, 0, 20),
                    utc(2025, 10, 26, 0, 40),
                    utc(2025, 10, 27, 1, 0),
                ],
            ),
            (
                "cron:30 1 * * *",
                NEW_YORK,
                utc(2025, 11, 1, 12),
                [utc(2025, 11, 2, 5, 30), utc(2025, 11, 3, 6, 30)],
            ),
            (
                "cron:45 1 * * *",
                LORD_HOWE,
                utc(2025, 4, 5, 12),
                [utc(2025, 4, 5, 14, 45), utc(2025, 4, 6, 15, 15)],
            ),
        ],
    )
    def test_fixed_time_on_fall_back_fires_on_first_pass_only(
        self, schedule: str, tz: str, after: datetime, expected: list[datetime]
    ) -> None:
        assert preview(schedule, after, len(expected), tz) == expected

    @pytest.mark.parametrize(
        ("schedule", "tz", "after", "expected"),
        [
            # 02:00 and 02:30 CET/CEST never happen on 30 Mar.
            (
                "cron:*/30 * * * *",
                BERLIN,
                utc(2025, 3, 30, 0, 15),
                [utc(2025, 3, 30, 0, 30), utc(2025, 3, 30, 1, 0), utc(2025, 3, 30, 1, 30)],
            ),
            # Minute wildcard, hour fixed: the whole 02:xx is skipped that day.
            ("cron:*/5 2 * * *", BERLIN, utc(2025, 3, 29, 12), [utc(2025, 3, 31, 0, 0)]),
            ("cron:* 2 * * *", NEW_YORK, utc(2025, 3, 8, 12), [utc(2025, 3, 10, 6, 0)]),
            (
                "cron:*/15 * * * *",
                LORD_HOWE,
                utc(2025, 10, 4, 15, 0),
                [utc(2025, 10, 4, 15, 15), utc(2025, 10, 4, 15, 30), utc(2025, 10, 4, 15, 45)],
            ),
            # Santiago: hour 0 does not exist on 7 Sep, so the Sunday job waits a week.
            # (cronsim alone returns "00:00 -04" = 04:00 UTC, which is 01:00 local.)
            (
                "cron:* 0 * * 0",
                SANTIAGO,
                utc(2025, 9, 6, 12),
                [utc(2025, 9, 14, 3, 0), utc(2025, 9, 14, 3, 1)],
            ),
            (
                "cron:0 * * * 0",
                SANTIAGO,
                utc(2025, 9, 6, 12),
                [utc(2025, 9, 7, 4, 0), utc(2025, 9, 7, 5, 0)],
            ),
        ],
    )
    def test_wildcard_skips_the_gap(
        self, schedule: str, tz: str, after: datetime, expected: list[datetime]
    ) -> None:
        assert preview(schedule, after, len(expected), tz) == expected

    @pytest.mark.parametrize(
        ("schedule", "tz", "after", "expected"),
        [
            # 02:00, 02:30 CEST and again 02:00, 02:30 CET.
            (
                "cron:*/30 * * * *",
                BERLIN,
                utc(2025, 10, 25, 23, 45),
                [
                    utc(2025, 10, 26, 0, 0),
                    utc(2025, 10, 26, 0, 30),
                    utc(2025, 10, 26, 1, 0),
                    utc(2025, 10, 26, 1, 30),
                    utc(2025, 10, 26, 2, 0),
                ],
            ),
            (
                "cron:*/20 2 * * *",
                BERLIN,
                utc(2025, 10, 25, 12),
                [
                    utc(2025, 10, 26, 0, 0),
                    utc(2025, 10, 26, 0, 20),
                    utc(2025, 10, 26, 0, 40),
                    utc(2025, 10, 26, 1, 0),
                    utc(2025, 10, 26, 1, 20),
                    utc(2025, 10, 26, 1, 40),
                    utc(2025, 10, 27, 1, 0),
                ],
            ),
            (
                "cron:*/15 * * * *",
                LORD_HOWE,
                utc(2025, 4, 5, 14, 20),
                [
                    utc(2025, 4, 5, 14, 30),
                    utc(2025, 4, 5, 14, 45),
                    utc(2025, 4, 5, 15, 0),
                    utc(2025, 4, 5, 15, 15),
                    utc(2025, 4, 5, 15, 30),
                ],
            ),
        ],
    )
    def test_wildcard_fires_in_both_passes(
        self, schedule: str, tz: str, after: datetime, expected: list[datetime]
    ) -> None:
        assert preview(schedule, after, len(expected), tz) == expected

    def test_daily_in_berlin_fires_at_berlin_midnight(self) -> None:
        assert preview("daily", utc(2025, 3, 28, 12), 4, BERLIN) == [
            utc(2025, 3, 28, 23, 0),  # CET
            utc(2025, 3, 29, 23, 0),  # CET; 30 Mar is 23 hours long
            utc(2025, 3, 30, 22, 0),  # CEST
            utc(2025, 3, 31, 22, 0),
        ]
        assert preview("daily", utc(2025, 10, 25, 12), 2, BERLIN) == [
            utc(2025, 10, 25, 22, 0),  # CEST
            utc(2025, 10, 26, 23, 0),  # CET; 26 Oct is 25 hours long
        ]

    def test_hourly_in_new_york_across_both_transitions(self) -> None:
        # Spring: 01:00 EST, (02:00 does not exist), 03:00 EDT: still one hour apart in UTC.
        assert preview("hourly", local(NEW_YORK, 2025, 3, 9, 0, 30), 3, NEW_YORK) == [
            utc(2025, 3, 9, 6, 0),
            utc(2025, 3, 9, 7, 0),
            utc(2025, 3, 9, 8, 0),
        ]
        # Fall: 01:00 EDT and 01:00 EST both fire, as hourly's hour field is *.
        assert preview("hourly", local(NEW_YORK, 2025, 11, 2, 0, 30), 3, NEW_YORK) == [
            utc(2025, 11, 2, 5, 0),
            utc(2025, 11, 2, 6, 0),
            utc(2025, 11, 2, 7, 0),
        ]

    def test_every_n_hours_follows_the_wall_clock(self) -> None:
        # 00:00 EST, (02:00 skipped), 04:00 EDT: three real hours apart, not two.
        assert preview("every_2_hours", utc(2025, 3, 9, 4, 0), 3, NEW_YORK) == [
            utc(2025, 3, 9, 5, 0),
            utc(2025, 3, 9, 8, 0),
            utc(2025, 3, 9, 10, 0),
        ]

    @pytest.mark.parametrize(
        ("schedule", "tz", "after", "expected"),
        [
            # After the first 02:30 CEST, the next */30 is 02:00 CET: earlier on the wall
            # clock, later in time.
            (
                "cron:*/30 * * * *",
                BERLIN,
                local(BERLIN, 2025, 10, 26, 2, 30),
                utc(2025, 10, 26, 1, 0),
            ),
            (
                "cron:*/30 * * * *",
                BERLIN,
                local(BERLIN, 2025, 10, 26, 2, 45),
                utc(2025, 10, 26, 1, 0),
            ),
            (
                "cron:*/30 * * * *",
                BERLIN,
                local(BERLIN, 2025, 10, 26, 2, 10),
                utc(2025, 10, 26, 0, 30),
            ),
            (
                "cron:*/30 * * * *",
                BERLIN,
                local(BERLIN, 2025, 10, 26, 2, 30, fold=1),
                utc(2025, 10, 26, 2, 0),
            ),
            # A fixed-time job asked from the second pass: today's run was in the first
            # pass, already past. (cronsim alone answers 02:30 CEST, before `after`.)
            (
                "cron:0,30 2 * * *",
                BERLIN,
                local(BERLIN, 2025, 10, 26, 2, 15, fold=1),
                utc(2025, 10, 27, 1, 0),
            ),
            (
                "cron:30 2 * * *",
                BERLIN,
                local(BERLIN, 2025, 10, 26, 2, 15, fold=1),
                utc(2025, 10, 27, 1, 30),
            ),
            (
                "cron:30 2 * * *",
                BERLIN,
                local(BERLIN, 2025, 10, 26, 2, 15),
                utc(2025, 10, 26, 0, 30),
            ),
            (
                "cron:30 1 * * *",
                NEW_YORK,
                local(NEW_YORK, 2025, 11, 2, 1, 45, fold=1),
                utc(2025, 11, 3, 6, 30),
            ),
            # Exactly at the end of the gap: the gap fire is that very instant, not after it.
            ("cron:30 2 * * *", BERLIN, utc(2025, 3, 30, 1, 0), utc(2025, 3, 31, 0, 30)),
            (
                "cron:30 2 * * *",
                BERLIN,
                utc(2025, 3, 30, 0, 59, 59, 999999),
                utc(2025, 3, 30, 1, 0),
            ),
        ],
    )
    def test_strictly_after_inside_transitions(
        self, schedule: str, tz: str, after: datetime, expected: datetime
    ) -> None:
        assert next_fire(schedule, after, tz) == expected
        # The same instant in other offsets gives the same answer.
        assert next_fire(schedule, after.astimezone(UTC), tz) == expected
        ist = timezone(timedelta(hours=5, minutes=30))
        assert next_fire(schedule, after.astimezone(ist), tz) == expected

    def test_cronsim_alone_gets_these_wrong(self) -> None:
        """Why walltime.py exists: the cases cronsim's own DST mode gets wrong."""
        berlin, santiago = ZoneInfo(BERLIN), ZoneInfo(SANTIAGO)
        second_pass = datetime(2025, 10, 26, 2, 15, fold=1, tzinfo=berlin)
        # (Compared in UTC: datetimes sharing a tzinfo compare by wall time, ignoring fold.)
        answer = next(CronSim("0,30 2 * * *", second_pass))
        assert answer.astimezone(UTC) < second_pass.astimezone(UTC)
        sunday = next(CronSim("* 0 * * 0", datetime(2025, 9, 6, 12, tzinfo=santiago)))
        assert sunday.astimezone(UTC) == utc(2025, 9, 7, 4, 0)  # 01:00 local, hour 0 expected
        assert sorted(CronSim("5-5/2 * * * *", datetime(2025, 1, 1)).minutes)[:3] == [5, 7, 9]

    def test_next_after_matches_preview_over_a_whole_year(self) -> None:
        parsed = parse_schedule("cron:*/30 1-3 * * *", BERLIN)
        fires = parsed.preview(utc(2025, 1, 1), 1000)
        assert all(a < b for a, b in itertools.pairwise(fires))
        walls = {f.astimezone(ZoneInfo(BERLIN)).strftime("%H:%M") for f in fires}
        assert walls == {"01:00", "01:30", "02:00", "02:30", "03:00", "03:30"}
