"""The figures each peer driver prints, computed alike for every peer (plain Python: it runs in
the peers' own virtual environments)."""

from __future__ import annotations

import math
import resource


def summary(
    due: float, step: float, starts: dict[int, float], finishes: dict[int, float], ready_late: float
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
        "ready_late_s": ready_late,
    }


def _nearest_rank(ordered: list[float], p: float) -> float:
    """The same nearest-rank percentile as the bench's harness.percentile."""
    return ordered[max(math.ceil(p / 100 * len(ordered)), 1) - 1]
