"""The run log as a summary per interval (`CRONBASE_RUN_LOG=summary`), for fleets at rate: one
line every `CRONBASE_RUN_LOG_INTERVAL_SECONDS` that counts the runs a worker recorded by status
and gives their start lag, instead of a line per run, which at thousands of runs a second costs
more than the runs. A run that did not succeed still logs its own warning line (reporting.py):
what goes wrong is never summed away.

The start lag of a run is cronbase.jobs.start_lag's (from its slot and the job's jitter offset,
as the metrics count it). The percentiles are
nearest-rank over the interval's runs, or over an even sample of MAX_SAMPLES of them.
"""

from __future__ import annotations

import logging
import math
import random
from collections import Counter

from cronbase.jobs import Outcome, RunStatus, job_offset, start_lag

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS = 10.0
MAX_SAMPLES = 20_000  # lags kept per interval (reservoir sampling past that)


class RunTally:
    """Counts recorded runs and samples their start lag; `maybe_log(now)` writes the line once
    `interval` seconds (on the monotonic scale) passed since the last, if any run was counted.
    Used by the runner's control thread only."""

    def __init__(self, interval: float = DEFAULT_INTERVAL_SECONDS, *, now: float = 0.0) -> None:
        self.interval = interval
        self._since = now
        self._counts: Counter[str] = Counter()
        self._lags: list[float] = []
        self._seen = 0  # runs whose lag was offered to the sample
        self._random = random.Random()

    def add(self, outcome: Outcome) -> None:
        self._counts[outcome.status.value] += 1
        claim = outcome.claim
        offset = job_offset(claim.job)
        lag = start_lag(claim.slot, outcome.started_at, claim.trigger, offset).total_seconds()
        self._seen += 1
        if len(self._lags) < MAX_SAMPLES:
            self._lags.append(lag)
        else:  # keep each of the runs seen with the same chance
            slot = self._random.randrange(self._seen)
            if slot < MAX_SAMPLES:
                self._lags[slot] = lag

    def maybe_log(self, now: float, *, force: bool = False) -> bool:
        """Log the summary if the interval is over (or `force`) and runs were counted; then
        start a new interval. Return whether a line was written."""
        if not force and now - self._since < self.interval:
            return False
        seconds = now - self._since
        self._since = now
        if not self._counts:
            return False
        line, extra = summary_line(self._counts, self._lags, seconds)
        logger.info(line, extra=extra)
        self._counts = Counter()
        self._lags = []
        self._seen = 0
        return True


def summary_line(
    counts: Counter[str], lags: list[float], seconds: float
) -> tuple[str, dict[str, object]]:
    """The line and its structured fields: "runs in the last 10.0 s: 52,310 (52,300
    succeeded, 10 failed); start lag p50 0.012 s, p99 0.480 s"."""
    total = sum(counts.values())
    failures = total - counts[RunStatus.SUCCEEDED.value]
    by_status = ", ".join(f"{n:,} {status}" for status, n in sorted(counts.items()))
    ordered = sorted(lags)
    p50, p99 = _nearest_rank(ordered, 50), _nearest_rank(ordered, 99)
    line = (
        f"runs in the last {seconds:.1f} s: {total:,} ({by_status}); "
        f"start lag p50 {p50:.3f} s, p99 {p99:.3f} s"
    )
    extra = {
        "action": "runs_summary",
        "runs": total,
        "failures": failures,
        "lag_p50": p50,
        "lag_p99": p99,
    }
    return line, extra


def _nearest_rank(ordered: list[float], p: float) -> float:
    if not ordered:
        return math.nan
    return ordered[max(math.ceil(p / 100 * len(ordered)), 1) - 1]
