"""The seed's monitoring keys in a job's metadata: last_execution, execution_count, last_error
and error_count. Written after each run that counts; clients cannot set them.

Pure: it takes metadata and returns new metadata, and touches no database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cronbase.jobs import RunStatus, isoformat
from cronbase.limits import cut_text

# How much of a run's error the job's last_error keeps.
MAX_LAST_ERROR_BYTES = 2048

MONITORING_KEYS = ("last_execution", "execution_count", "last_error", "error_count")


def keep_monitoring_keys(new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """`new` metadata from a client, with the monitoring keys of `old` instead of its own."""
    kept = {key: old[key] for key in MONITORING_KEYS if key in old}
    return {**{k: v for k, v in new.items() if k not in MONITORING_KEYS}, **kept}


def count_run(
    metadata: dict[str, Any], executed_at: datetime, status: RunStatus, error: str | None
) -> dict[str, Any]:
    """A copy of `metadata` that counts one more run, started at `executed_at`: a success
    clears last_error, anything else sets it and counts an error."""
    counted = dict(metadata)
    counted["last_execution"] = isoformat(executed_at)
    counted["execution_count"] = _count(counted.get("execution_count")) + 1
    if status is RunStatus.SUCCEEDED:
        counted.pop("last_error", None)
    else:
        # The run's own row keeps up to MAX_RUN_TEXT_BYTES of it; the job's metadata, which
        # every listing carries, keeps the start and end only.
        counted["last_error"] = None if error is None else cut_text(error, MAX_LAST_ERROR_BYTES)
        counted["error_count"] = _count(counted.get("error_count")) + 1
    return counted


def _count(value: Any) -> int:
    # Someone may have edited the counters by hand; count on from whatever number is there.
    try:
        return max(int(value or 0), 0)
    except (TypeError, ValueError):
        return 0
