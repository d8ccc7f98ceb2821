"""The pure schedule engine: parse, validate, describe, and compute fire times.

Imports only the standard library, cronsim and cronbase.errors; it never reads the clock.
"""

from __future__ import annotations

from cronbase.errors import InvalidSchedule
from cronbase.schedule.aliases import ON_DEMAND
from cronbase.schedule.cron import Schedule, next_fire, parse_schedule, preview
from cronbase.schedule.explain import describe
from cronbase.schedule.jitter import (
    MAX_JITTER_SECONDS,
    jitter_offset,
    next_fire_with_offset,
    shortest_gap,
)
from cronbase.schedule.zones import validate_timezone

__all__ = [
    "MAX_JITTER_SECONDS",
    "ON_DEMAND",
    "InvalidSchedule",
    "Schedule",
    "describe",
    "jitter_offset",
    "next_fire",
    "next_fire_with_offset",
    "parse_schedule",
    "preview",
    "shortest_gap",
    "validate_timezone",
]
