"""The figures each peer driver prints, computed alike for every peer (plain Python: it runs in
the peers' own virtual environments)."""

from __future__ import annotations

import math
import resource
import threading
import time


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class CpuAtDue:
    """The process's CPU seconds read at the due instant (epoch seconds), from a timer thread,
    so that the burst's CPU leaves out the set-up before it, as cronbase's does."""

    def __init__(self, due: float) -> None:
        self.value: float | None = None
        self._end: float | None = None
        self._timer = threading.Timer(max(due - time.time(), 0), self._read)
        self._timer.daemon = True
        self._timer.start()

    def _read(self) -> None:
        self.value = _cpu()

    def stop(self) -> None:
        """The burst ended (the driver saw the last run finish)."""
        self._timer.join()
        self._end = _cpu()

    def since(self) -> float:
        if self._end is None:
            self.stop()
        return (self._end or 0.0) - (self.value or 0.0)


def summary(
    due: float,
    step: float,
    starts: dict[int, float],
    finishes: dict[int, float],
    ready_late: float,
    at_due: CpuAtDue | None = None,
) -> dict[str, float]:
    """Job i was due at due + i * step (epoch seconds). Lag is each job's start minus its own
    due instant; wall time runs from the first due instant to the last finish."""
    n = len(starts)
    lags = sorted(start - (due + i * step) for i, start in starts.items())
    wall = max(finishes.values()) - due
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "wall_s": wall,
        "per_s": n / wall,
        "lag_p50": _nearest_rank(lags, 50),
        "lag_p99": _nearest_rank(lags, 99),
        "lag_max": lags[-1],
        "rss_mib": usage.ru_maxrss / 1024,
        "cpu_ms_per_job": (usage.ru_utime + usage.ru_stime) * 1000 / n,
        "burst_cpu_ms_per_run": at_due.since() * 1000 / n if at_due else math.nan,
        "ready_late_s": ready_late,
    }


def _nearest_rank(ordered: list[float], p: float) -> float:
    """The same nearest-rank percentile as the bench's harness.percentile."""
    return ordered[max(math.ceil(p / 100 * len(ordered)), 1) - 1]
