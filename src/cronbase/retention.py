"""Run-history retention, the rules: how old a run may get, and when a worker prunes.

Pure: no I/O, no clock reads. What may go is stated with the SQL that finds it
(store/retention.py); runner/pruning.py drives the batches with these rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta

# The setting in the database (cron_setting) a new installation gets (the migration run_retention).
SETTING = "run_retention_days"
# The shortest retention that may be set (0 aside, which keeps every run): a dependent job that
# waits for all its upstreams looks a week back at their runs and at its own (store/triggers.py,
# EXPIRY_LOOKBACK); pruning them sooner could let it run a scheduled time twice.
MIN_DAYS = 7
# Rows looked at per transaction: small enough that a batch takes a few milliseconds and
# locks only the rows it deletes.
BATCH_SIZE = 1000


def max_age(setting_days: float | None, stored_days: str | None) -> timedelta | None:
    """How old a run's slot may get before the run may go; None: keep every run.

    CRONBASE_RUN_RETENTION_DAYS (`setting_days`) decides when given, 0 meaning keep every run.
    Else the database's own setting does: a new installation has 90 days there, an upgraded
    one nothing, so an upgrade never starts deleting history by itself.
    """
    days = setting_days
    if days is None and stored_days is not None:
        days = float(stored_days)
    if days is None or days <= 0:
        return None
    return timedelta(days=days)


def describe(setting_days: float | None, stored_days: str | None) -> str:
    """What happens to the run history, in words, for `cronbase migrate` to say."""
    age = max_age(setting_days, stored_days)
    if setting_days is not None:
        where = f"CRONBASE_RUN_RETENTION_DAYS={setting_days:g}"
        return (
            f"every run is kept ({where})"
            if age is None
            else f"runs are kept {_days(age)} ({where})"
        )
    if age is None:
        return (
            "every run is kept (this installation predates run-history retention); "
            "set CRONBASE_RUN_RETENTION_DAYS to prune"
        )
    return (
        f"runs are kept {_days(age)} (this installation's default); "
        "CRONBASE_RUN_RETENTION_DAYS changes it"
    )


def _days(age: timedelta) -> str:
    days = age / timedelta(days=1)
    return f"{days:g} day{'' if days == 1 else 's'}"


@dataclass
class Cadence:
    """When a worker prunes, in monotonic seconds.

    A pass runs every `interval` seconds and goes on, batch after batch, until it reaches the
    cutoff. An idle worker does the batches that fit in `idle_budget` seconds of a turn and
    before its next job is due; a worker with runs going does one batch every `busy_gap`
    seconds, so that pruning takes a small share of the loop that claims and records runs
    (a batch of 1,000 rows took 20 to 300 ms on the shared benchmark machine). After a refusal
    (another pruner holds the lock) or a failure, it waits for the next pass.
    """

    interval: float = 300.0
    busy_gap: float = 5.0
    idle_budget: float = 0.5
    next_pass_at: float = field(default=-math.inf)  # the first pass comes at the first turn
    next_batch_at: float = field(default=-math.inf)  # within a pass, while the worker is busy

    def due(self, now: float, *, in_pass: bool, busy: bool) -> bool:
        if in_pass:
            return not busy or now >= self.next_batch_at
        return now >= self.next_pass_at

    def another_batch(
        self, *, busy: bool, done: int, elapsed: float, batch_seconds: float, until_due: float
    ) -> bool:
        """Whether a turn does one more batch, `done` batches and `elapsed` seconds into it, a
        batch taking about `batch_seconds`: a busy worker does one, an idle one those that end
        within its budget (the first one even if it takes longer) and before its next job is
        due."""
        if busy:
            return done == 0
        if done == 0:  # the budget bounds the batches after the first, however slow that is
            return batch_seconds <= until_due
        return elapsed + batch_seconds <= min(self.idle_budget, until_due)

    def more_to_do(self, now: float) -> None:
        """The pass is not over: its next batch comes at the next idle turn, or busy_gap on."""
        self.next_batch_at = now + self.busy_gap

    def rest(self, now: float) -> None:
        """The pass is over (done, refused or failed): the next one after `interval`."""
        self.next_pass_at = now + self.interval
