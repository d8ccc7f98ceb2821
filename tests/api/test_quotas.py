"""What one tenant may store is bounded, so it cannot hurt the others: jobs per tenant, and
the size and depth of a job's metadata. Refusals change nothing; older jobs stay editable."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import httpx
import pytest

from cronbase.auth import Role
from cronbase.registry import JobRegistry
from cronbase.store import SqlStore
from cronbase.testing import FakeClock
from tests.api.conftest import Tenants, _token, serving

MAX_JOBS = 3


@pytest.fixture
def base_url(store: SqlStore, clock: FakeClock, registry: JobRegistry) -> Iterator[str]:
    with serving(store, clock, registry, max_jobs_per_tenant=MAX_JOBS) as url:
        yield url


@pytest.fixture
def admin_a(base_url: str, store: SqlStore, tenants: Tenants) -> Iterator[httpx.Client]:
    token = _token(store, "admin@a.test", Role.ADMIN, tenants.a)
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}) as c:
        yield c


@pytest.fixture
def root(base_url: str, store: SqlStore) -> Iterator[httpx.Client]:
    token = _token(store, "root@x.test", Role.SUPERADMIN, None)
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}) as c:
        yield c


def job(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "schedule": "hourly", "function_name": "echo", **fields}


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def listed(client: httpx.Client) -> list[str]:
    response = client.get("/api/cron/jobs")
    assert response.status_code == 200, response.text
    return [j["name"] for j in response.json()["data"]["jobs"]]


def test_a_tenant_cannot_have_more_jobs_than_its_quota(
    admin_a: httpx.Client, root: httpx.Client, tenants: Tenants
) -> None:
    for i in range(MAX_JOBS):
        assert admin_a.post("/api/cron/jobs", json=job(f"job {i}")).status_code == 201
    refused = admin_a.post("/api/cron/jobs", json=job("one too many"))
    assert refused.status_code == 409
    message = refused.json()["message"]
    assert f"has {MAX_JOBS} jobs, the most it may have" in message
    assert "CRONBASE_MAX_JOBS_PER_TENANT" in message
    assert "one too many" not in listed(admin_a)
    # Global jobs count toward no tenant, and tenant B has its own quota.
    assert root.post("/api/cron/jobs", json=job("global")).status_code == 201
    other = root.post("/api/cron/jobs", json=job("b's", tenant_id=str(tenants.b)))
    assert other.status_code == 201
    # Moving a job into a full tenant is refused too.
    moved = root.put(
        f"/api/cron/jobs/{other.json()['data']['job']['id']}", json={"tenant_id": str(tenants.a)}
    )
    assert moved.status_code == 409
    # A place freed is a place to take.
    first = admin_a.get("/api/cron/jobs").json()["data"]["jobs"][0]["id"]
    assert admin_a.delete(f"/api/cron/jobs/{first}").status_code == 200
    assert admin_a.post("/api/cron/jobs", json=job("now it fits")).status_code == 201


@pytest.mark.parametrize(
    ("metadata", "problem"),
    [
        (nested(256), "nests 256 levels deep; at most 32 are allowed"),
        (nested(33), "nests 33 levels deep; at most 32 are allowed"),
        ({"blob": "x" * 70_000}, "is 70,011 bytes as JSON; at most 65,536 are allowed"),
    ],
)
def test_metadata_too_deep_or_too_large_is_refused_before_it_is_stored(
    admin_a: httpx.Client, metadata: dict[str, Any], problem: str
) -> None:
    refused = admin_a.post("/api/cron/jobs", json=job("hostile", metadata=metadata))
    assert refused.status_code == 422
    errors = refused.json()["errors"]
    assert errors[0]["field"] == "metadata"
    assert errors[0]["message"].startswith(problem)
    assert listed(admin_a) == []  # nothing stored, and the listing still answers
    created = admin_a.post("/api/cron/jobs", json=job("fine", metadata=nested(32))).json()
    changed = admin_a.put(
        f"/api/cron/jobs/{created['data']['job']['id']}", json={"metadata": metadata}
    )
    assert changed.status_code == 422
    assert listed(admin_a) == ["fine"]


def test_a_job_stored_before_the_limits_can_still_be_paused_edited_and_deleted(
    admin_a: httpx.Client, store: SqlStore
) -> None:
    created = admin_a.post("/api/cron/jobs", json=job("old")).json()["data"]["job"]
    store.update_job(UUID(created["id"]), {"metadata": {"blob": "x" * 100_000}})  # as it was
    url = f"/api/cron/jobs/{created['id']}"
    paused = admin_a.put(url, json={"is_active": False, "name": "old, paused"})
    assert paused.status_code == 200, paused.text
    assert len(paused.json()["data"]["job"]["metadata"]["blob"]) == 100_000
    assert admin_a.put(url, json={"metadata": {"blob": "y" * 100_000}}).status_code == 422
    assert admin_a.put(url, json={"metadata": {"small": 1}}).status_code == 200
    assert admin_a.delete(url).status_code == 200
