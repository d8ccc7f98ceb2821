"""The no-op job the APScheduler driver schedules: it notes when it started and finished."""

from __future__ import annotations

import time

STARTS: list[float] = []
FINISHES: list[float] = []


def noop() -> None:
    STARTS.append(time.time())
    FINISHES.append(time.time())
