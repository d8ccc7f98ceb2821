"""The pure schedule engine: parse, validate, describe, and compute fire times.

Imports only the standard library, cronsim and cronbase.errors; it never reads the clock.
"""

from __future__ import annotations

from cronbase.errors import InvalidSchedule
from cronbase.schedule.aliases import ON_DEMAND
from cronbase.schedule.cron import Schedule, next_fire, parse_schedule, preview
from cronbase.schedule.explain import describe
from cronbase.schedule.zones import validate_timezone

__all__ = [
    "ON_DEMAND",
    "InvalidSchedule",
    "Schedule",
    "describe",
    "next_fire",
    "parse_schedule",
    "preview",
    "validate_timezone",
]
