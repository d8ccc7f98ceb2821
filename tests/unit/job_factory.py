"""A Job built in memory, for the pure rules' tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from cronbase.jobs import Claim, Job

NOW = datetime(2025, 1, 15, 10, 35, tzinfo=UTC)


def make_job(**values: Any) -> Job:
    defaults: dict[str, Any] = {
        "id": uuid4(),
        "tenant_id": None,
        "name": "j",
        "schedule": "every_5_minutes",
        "function_name": "f",
        "is_active": True,
        "last_run": None,
        "next_run": NOW,
        "metadata": {},
        "timezone": "UTC",
        "created_at": NOW,
        "updated_at": NOW,
    }
    return Job(**{**defaults, **values})


def make_claim(job: Job | None = None, *, attempt: int = 1) -> Claim:
    job = job or make_job()
    assert job.next_run is not None
    return Claim(UUID(int=7), job, job.next_run, None, attempt=attempt)
