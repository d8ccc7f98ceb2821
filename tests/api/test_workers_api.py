"""What the Web UI asks the API: who is signed in, the tenants, the live workers, latest runs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest

from cronbase.store import SqlStore
from cronbase.store.workers import WorkerStore
from cronbase.testing import FakeClock
from tests.api.conftest import Callers, Tenants


def _create(api: httpx.Client, name: str, function: str = "echo", **extra: Any) -> UUID:
    # Yearly, so no slot falls due by itself while the test runs; tests make it due by hand.
    body = {"name": name, "schedule": "cron:0 0 1 1 *", "function_name": function, **extra}
    response = api.post("/api/cron/jobs", json=body)
    assert response.status_code == 201, response.text
    return UUID(response.json()["data"]["job"]["id"])


def test_no_worker_means_worker_running_is_false(callers: Callers) -> None:
    response = callers.admin_a.get("/api/cron/workers")
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"worker_running": False, "alive": 0, "workers": None}
    everything = callers.superadmin.get("/api/cron/workers").json()["data"]
    assert everything == {"worker_running": False, "alive": 0, "workers": []}


def test_a_heartbeating_worker_is_listed_and_stale_or_stopped_ones_are_not(
    callers: Callers, store: SqlStore, clock: FakeClock
) -> None:
    workers = WorkerStore(store.engine)
    now = clock.now()
    workers.register("live-1", "host-a", 101, now - timedelta(hours=1))
    workers.heartbeat("live-1", now - timedelta(seconds=5))
    workers.register("stale-1", "host-b", 102, now - timedelta(hours=1))  # silent for an hour
    workers.register("stopped-1", "host-c", 103, now)
    workers.stopped("stopped-1", now)

    data = callers.superadmin.get("/api/cron/workers").json()["data"]

    assert data["worker_running"] is True
    assert data["alive"] == 1
    [worker] = data["workers"]
    assert worker["id"] == "live-1"
    assert worker["host"] == "host-a"
    assert worker["pid"] == 101
    assert worker["last_heartbeat"] == "2025-01-15T10:29:55Z"


@pytest.mark.parametrize("who", ["admin_a", "jwt_admin_a", "user"])
def test_only_superadmins_see_the_workers_hosts_and_pids(
    callers: Callers, store: SqlStore, clock: FakeClock, who: str
) -> None:
    workers = WorkerStore(store.engine)
    for pid in (101, 102):
        workers.register(f"secret-host:{pid}:abc", "secret-host", pid, clock.now())
    response = getattr(callers, who).get("/api/cron/workers")
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"worker_running": True, "alive": 2, "workers": None}
    assert "secret-host" not in response.text
    assert "secret-host" in callers.superadmin.get("/api/cron/workers").text


@pytest.mark.parametrize("who", ["superadmin", "admin_a", "jwt_admin_a", "user"])
def test_every_signed_in_role_may_ask_about_workers(callers: Callers, who: str) -> None:
    assert getattr(callers, who).get("/api/cron/workers").status_code == 200


@pytest.mark.parametrize("who", ["anonymous", "bad_token", "expired_jwt"])
def test_workers_and_me_need_a_valid_token(callers: Callers, who: str) -> None:
    for path in ("/api/cron/workers", "/api/cron/me"):
        response = getattr(callers, who).get(path)
        assert response.status_code == 401
        assert response.json()["status"] == "error"


def test_me_says_who_is_signed_in(callers: Callers, tenants: Tenants) -> None:
    root = callers.superadmin.get("/api/cron/me").json()["data"]
    assert root == {
        "email": "root@x.test",
        "role": "superadmin",
        "tenant_id": None,
        "tenant_name": None,
        "can_manage_jobs": True,
    }
    admin = callers.admin_a.get("/api/cron/me").json()["data"]
    assert (admin["email"], admin["role"]) == ("admin@a.test", "admin")
    assert (admin["tenant_id"], admin["tenant_name"]) == (str(tenants.a), "Tenant A")
    by_jwt = callers.jwt_admin_a.get("/api/cron/me").json()["data"]
    assert (by_jwt["email"], by_jwt["tenant_name"]) == ("jwt@a.test", "Tenant A")
    user = callers.user.get("/api/cron/me").json()["data"]
    assert (user["role"], user["can_manage_jobs"]) == ("user", False)


def test_tenants_lists_what_the_caller_may_see(callers: Callers, tenants: Tenants) -> None:
    everyone = callers.superadmin.get("/api/cron/tenants").json()["data"]["tenants"]
    assert [t["name"] for t in everyone] == ["Tenant A", "Tenant B"]
    own = callers.admin_b.get("/api/cron/tenants").json()["data"]["tenants"]
    assert own == [{"id": str(tenants.b), "name": "Tenant B"}]
    assert callers.user.get("/api/cron/tenants").status_code == 403


def test_latest_runs_gives_each_visible_jobs_newest_run(
    callers: Callers, clock: FakeClock, store: SqlStore
) -> None:
    ran = _create(callers.admin_a, "Ran twice")
    never = _create(callers.admin_a, "Never ran")
    other_tenant = _create(callers.admin_b, "B's job", function="boom")
    for job_id in (ran, other_tenant):
        store.update_job(job_id, {"next_run": clock.now() - timedelta(minutes=1)})
    assert callers.superadmin.post("/api/cron/run").status_code == 200
    clock.advance(timedelta(minutes=5))
    store.update_job(ran, {"next_run": clock.now() - timedelta(minutes=1)})
    assert callers.superadmin.post("/api/cron/run").status_code == 200

    query = f"/api/cron/runs/latest?job_id={ran}&job_id={never}&job_id={other_tenant}"
    runs = callers.admin_a.get(query).json()["data"]["runs"]

    assert set(runs) == {str(ran)}  # B's job is invisible to admin A; "Never ran" has no run
    assert runs[str(ran)]["status"] == "succeeded"
    assert runs[str(ran)]["started_at"] == "2025-01-15T10:35:00Z"
    b_runs = callers.superadmin.get(query).json()["data"]["runs"]
    assert "boom" in b_runs[str(other_tenant)]["error"]


def test_latest_runs_refuses_no_ids_too_many_ids_and_bad_ids(callers: Callers) -> None:
    api = callers.superadmin
    too_many = "&".join(f"job_id=00000000-0000-4000-8000-{i:012d}" for i in range(101))
    for query in ("", "?job_id=not-a-uuid", f"?{too_many}"):
        response = api.get(f"/api/cron/runs/latest{query}")
        assert response.status_code == 422, (query, response.text)
        assert response.json()["errors"][0]["field"].startswith("query.job_id")
    assert callers.user.get("/api/cron/runs/latest?job_id=" + "0" * 32).status_code == 403
