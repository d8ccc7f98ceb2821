"""The jobs `cronbase seed` creates: the seed's three defaults, one per built-in job."""

from __future__ import annotations

from typing import Any

# The seed's three default jobs: names, schedules, active flags and metadata as documented.
DEFAULT_JOBS: list[dict[str, Any]] = [
    {
        "name": "Mark Users Offline",
        "schedule": "every_5_minutes",
        "function_name": "markUsersOffline",
        "is_active": True,
        "metadata": {"timeout_minutes": 5},
    },
    {
        "name": "Clean Old Activities",
        "schedule": "daily",
        "function_name": "cleanOldActivities",
        "is_active": False,
        "metadata": {"retention_days": 90},
    },
    {
        "name": "Sync Denormalized Fields",
        "schedule": "hourly",
        "function_name": "syncDenormalizedFields",
        "is_active": False,
        "metadata": {},
    },
]
