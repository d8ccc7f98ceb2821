"""Creating jobs: validation that names the field and changes nothing, and the seed's defaults."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from cronbase.builtin import DEFAULT_JOBS
from cronbase.errors import InvalidJob
from cronbase.manager import SYSTEM, JobManager, JobSpec
from cronbase.store import SqlStore
from cronbase.store.tables import cron_job


def job_count(store: SqlStore) -> int:
    with store.transaction() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(cron_job)).scalar_one())


GOOD = {"name": "Nightly", "schedule": "cron:0 2 * * *", "function_name": "markUsersOffline"}


@pytest.mark.parametrize(
    ("overrides", "field", "expected"),
    [
        ({"schedule": "every_7_minutes"}, "schedule", "every_7_minutes"),
        ({"schedule": "cron:61 * * * *"}, "schedule", "0-59"),
        ({"schedule": "cron:0 0 30 2 *"}, "schedule", "never"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "Mars/Olympus_Mons"),
        ({"function_name": "noSuchJob"}, "function_name", "markUsersOffline"),
        ({"name": "   "}, "name", "blank"),
        ({"name": "x" * 201}, "name", "at most 200"),
        ({"metadata": ["not", "an", "object"]}, "metadata", "JSON object"),
        ({"tenant_id": uuid.UUID(int=7)}, "tenant_id", "no tenant"),
    ],
)
def test_invalid_jobs_are_rejected_with_the_field_and_nothing_is_stored(
    manager: JobManager, store: SqlStore, overrides: dict[str, Any], field: str, expected: str
) -> None:
    with pytest.raises(InvalidJob) as caught:
        manager.create_job(JobSpec(**{**GOOD, **overrides}), SYSTEM)

    [(bad_field, message)] = caught.value.errors
    assert bad_field == field
    assert expected.lower() in message.lower()
    assert job_count(store) == 0


def test_every_problem_is_reported_at_once(manager: JobManager) -> None:
    spec = JobSpec(name="", schedule="sometimes", function_name="nope", timezone="Nowhere/City")
    with pytest.raises(InvalidJob) as caught:
        manager.create_job(spec, SYSTEM)
    fields = [field for field, _ in caught.value.errors]
    assert fields == ["name", "timezone", "schedule", "function_name"]


def test_a_tenant_job_is_stored_with_its_zone(
    manager: JobManager, store: SqlStore, make_tenant: Any
) -> None:
    tenant = make_tenant()
    job = manager.create_job(
        JobSpec(**GOOD, tenant_id=tenant, timezone="America/New_York", metadata={"a": [1]}),
        SYSTEM,
    )
    assert store.get_job(job.id) == job
    assert job.tenant_id == tenant
    assert job.timezone == "America/New_York"
    assert job.to_dict()["next_run"] == "2025-01-16T07:00:00Z"  # 02:00 EST


def test_seed_creates_the_three_default_jobs_once(manager: JobManager, store: SqlStore) -> None:
    created = manager.seed_default_jobs(DEFAULT_JOBS)
    assert manager.seed_default_jobs(DEFAULT_JOBS) == []

    jobs = {job.function_name: job for job in store.list_jobs()}
    assert [job.name for job in created] == [
        "Mark Users Offline",
        "Clean Old Activities",
        "Sync Denormalized Fields",
    ]
    assert len(jobs) == 3
    offline = jobs["markUsersOffline"]
    assert (offline.schedule, offline.is_active, offline.metadata) == (
        "every_5_minutes",
        True,
        {"timeout_minutes": 5},
    )
    assert offline.to_dict()["next_run"] == "2025-01-15T10:35:00Z"
    clean = jobs["cleanOldActivities"]
    assert (clean.schedule, clean.is_active, clean.metadata) == (
        "daily",
        False,
        {"retention_days": 90},
    )
    sync = jobs["syncDenormalizedFields"]
    assert (sync.schedule, sync.is_active, sync.metadata) == ("hourly", False, {})
