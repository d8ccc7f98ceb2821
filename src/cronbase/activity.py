"""What the Web UI's pictures show, read from the run table: each run's timing (the strip of a
job's recent outcomes, the chart of its last runs) and the runs of each minute (the last hour).

Start lag is how late a run started, as cronbase.jobs.start_lag defines it: from its slot plus
the job's jitter offset. A retry's lag includes its backoff, and a manual run's is how long it
waited for a worker.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from cronbase.jobs import RunStatus, RunTrigger, milliseconds_between, start_lag

# The most runs one job's strip or chart reads, and how far back the overview looks.
MAX_RECENT_RUNS = 100
ACTIVITY_MINUTES = 60


@dataclass(frozen=True)
class RunTiming:
    """A run as a picture draws it: when, how long, how late, how it ended (no result or
    error, which may be large)."""

    id: UUID
    job_id: UUID
    status: RunStatus
    scheduled_for: datetime
    started_at: datetime | None
    finished_at: datetime | None
    attempt: int
    trigger: RunTrigger
    offset: timedelta = timedelta(0)  # the job's jitter offset (cronbase.jobs.job_offset)

    @property
    def duration_ms(self) -> int | None:
        return milliseconds_between(self.started_at, self.finished_at)

    @property
    def start_lag_ms(self) -> int | None:
        """None for a run that never started: missed, skipped or still waiting."""
        if self.started_at is None:
            return None
        lag = start_lag(self.scheduled_for, self.started_at, self.trigger, self.offset)
        return int(lag.total_seconds() * 1000)


@dataclass(frozen=True)
class MinuteActivity:
    """The runs that started in one minute: how many, how many failed, how late they were."""

    minute: datetime  # its first instant (UTC)
    runs: int = 0
    failures: int = 0  # ended failed, timed out or abandoned
    mean_lag_ms: int | None = None
    max_lag_ms: int | None = None


def activity_window(now: datetime, minutes: int = ACTIVITY_MINUTES) -> list[datetime]:
    """The first instants of the last `minutes` minutes, oldest first, the current one last."""
    current = now.replace(second=0, microsecond=0)
    return [current - timedelta(minutes=back) for back in range(minutes - 1, -1, -1)]


def fill_minutes(window: list[datetime], counted: Iterable[MinuteActivity]) -> list[MinuteActivity]:
    """One entry per minute of `window`: the counted ones, and empty ones for quiet minutes."""
    by_minute = {activity.minute: activity for activity in counted}
    return [by_minute.get(minute, MinuteActivity(minute)) for minute in window]
