"""The built-in jobs' options, declared once: the API checks a job's metadata against them when
the job is created or changed, the Web UI shows them as fields, and the jobs read them with
`Options.read(ctx.metadata)` (a missing or null option takes its default; a bad value, in a job
stored before the check, is refused with a ValueError that names the key, what is allowed and
the default, which the run records as its error).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import Field

from cronbase.builtin.activities import MAX_BATCH_SIZE
from cronbase.job_options import Integer, JobOptions, Number

ARCHIVE, DELETE = "archive", "delete"
# A hundred years: longer spans mean nothing here, and far longer ones would reach back before
# the year 1, which no datetime holds (the job's run would fail; the API refuses them instead).
MAX_DAYS = 36_525


class MarkUsersOfflineOptions(JobOptions):
    timeout_minutes: Number = Field(
        5,
        gt=0,
        le=MAX_DAYS * 24 * 60,
        description="a user or employee last seen longer ago than this is offline",
    )


class CleanOldActivitiesOptions(JobOptions):
    retention_days: Number = Field(
        90, ge=0, le=MAX_DAYS, description="activities created longer ago than this are cleaned"
    )
    mode: Literal["archive", "delete"] = Field(
        ARCHIVE,
        description="archive moves them into activities_archive, delete removes them",
    )
    batch_size: Integer = Field(
        1000,
        ge=1,
        le=MAX_BATCH_SIZE,
        description="rows per committed batch; a failed batch is rolled back whole",
    )


def time_before(now: datetime, key: str, unit: timedelta, amount: float) -> datetime:
    """`now` minus `amount` units; a ValueError naming `key` if that leaves the calendar."""
    try:
        return now - unit * amount
    except OverflowError as exc:
        raise ValueError(
            f"{key}={amount!r} reaches back before year 1; use a smaller value"
        ) from exc
