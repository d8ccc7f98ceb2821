"""The no-op job the APScheduler driver schedules: it notes when job `i` started and finished."""

from __future__ import annotations

import time

STARTS: dict[int, float] = {}
FINISHES: dict[int, float] = {}


def noop(i: int) -> None:
    STARTS[i] = time.time()
    FINISHES[i] = time.time()
