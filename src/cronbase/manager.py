"""Domain operations shared by the CLI (and later the API and UI): validate, then store."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from cronbase.clock import Clock
from cronbase.errors import InvalidJob, InvalidSchedule
from cronbase.jobs import Job
from cronbase.registry import JobRegistry
from cronbase.schedule import parse_schedule, validate_timezone
from cronbase.store import SqlStore

MAX_NAME_LENGTH = 200

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


@dataclass(frozen=True)
class JobSpec:
    """What a client gives to create a job (the seed's POST body, plus timezone)."""

    name: str
    schedule: str
    function_name: str
    tenant_id: UUID | None = None
    is_active: bool = True
    metadata: dict[str, Any] = field(default_factory=dict)
    timezone: str = "UTC"


class JobManager:
    def __init__(self, store: SqlStore, registry: JobRegistry, clock: Clock) -> None:
        self.store = store
        self.registry = registry
        self.clock = clock

    def create_job(self, spec: JobSpec) -> Job:
        """Validate `spec` and store it with its first next_run. Raise InvalidJob, storing nothing."""
        values = self._validated(spec)
        values["next_run"] = parse_schedule(spec.schedule, values["timezone"]).next_after(
            self.clock.now()
        )
        return self.store.insert_job(values)

    def seed_default_jobs(self) -> list[Job]:
        """Create the seed's default jobs that do not exist yet; return the ones created."""
        now = self.clock.now()
        rows = [
            {
                **values,
                "timezone": "UTC",
                "next_run": parse_schedule(values["schedule"]).next_after(now),
            }
            for values in DEFAULT_JOBS
        ]
        return self.store.insert_jobs_unless_named(rows)

    def _validated(self, spec: JobSpec) -> dict[str, Any]:
        errors: list[tuple[str, str]] = []
        name = spec.name.strip() if isinstance(spec.name, str) else ""
        if not name:
            errors.append(("name", "must not be blank"))
        elif len(name) > MAX_NAME_LENGTH:
            errors.append(("name", f"is {len(name)} characters long; at most {MAX_NAME_LENGTH}"))
        timezone = "UTC"
        try:
            timezone = validate_timezone(spec.timezone)
        except InvalidSchedule as exc:
            errors.append(("timezone", str(exc)))
        try:
            parse_schedule(spec.schedule, timezone)
        except InvalidSchedule as exc:
            errors.append(("schedule", str(exc)))
        if spec.function_name not in self.registry:
            known = ", ".join(self.registry.names())
            message = (
                f"{spec.function_name!r} is not a registered job function; choose one of: {known}"
            )
            errors.append(("function_name", message))
        errors.extend(_metadata_errors(spec.metadata))
        if spec.tenant_id is not None and not self.store.tenant_exists(spec.tenant_id):
            errors.append(("tenant_id", f"no tenant with id {spec.tenant_id}"))
        if errors:
            raise InvalidJob(errors)
        return {
            "name": name,
            "schedule": spec.schedule.strip(),
            "function_name": spec.function_name,
            "tenant_id": spec.tenant_id,
            "is_active": spec.is_active,
            "metadata": spec.metadata,
            "timezone": timezone,
        }


def _metadata_errors(metadata: Any) -> list[tuple[str, str]]:
    if not isinstance(metadata, dict):
        return [("metadata", f"must be a JSON object, got {type(metadata).__name__}")]
    try:
        json.dumps(metadata)
    except (TypeError, ValueError) as exc:
        return [("metadata", f"must be JSON-serialisable: {exc}")]
    return []
