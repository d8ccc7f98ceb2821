"""GET /api/cron/jobs/{id}/runs/{run_id} over HTTP: one run with its log and traceback, in
the envelope, visible to whoever may see the job, 404 otherwise; listings leave both out."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from cronbase.builtin import BUILTIN_JOBS
from cronbase.registry import JobRegistry
from cronbase.testing import FakeClock
from tests.api.conftest import Callers, Tenants, test_jobs
from tests.integration.logging_jobs import logging_jobs


@pytest.fixture
def registry() -> JobRegistry:
    return JobRegistry(BUILTIN_JOBS, test_jobs, logging_jobs)


def make_and_run(
    callers: Callers, clock: FakeClock, tenant_id: uuid.UUID | None, function: str
) -> tuple[str, dict[str, Any]]:
    """A job of the tenant, run once; its id and its run as the history lists it."""
    body = {
        "name": f"{function} of {tenant_id}",
        "schedule": "every_5_minutes",
        "function_name": function,
        "tenant_id": str(tenant_id) if tenant_id else None,
    }
    created = callers.superadmin.post("/api/cron/jobs", json=body)
    assert created.status_code == 201, created.text
    job_id = created.json()["data"]["job"]["id"]
    clock.advance(timedelta(minutes=5))
    assert callers.superadmin.post("/api/cron/run").status_code == 200
    runs = callers.superadmin.get(f"/api/cron/jobs/{job_id}/runs").json()["data"]["runs"]
    [run] = [run for run in runs if run["status"] not in ("missed", "skipped")]
    return job_id, run


def test_a_failed_run_comes_with_its_log_and_traceback(
    callers: Callers, clock: FakeClock, tenants: Tenants
) -> None:
    job_id, listed = make_and_run(callers, clock, tenants.a, "log_then_fail_deep")
    assert "log" not in listed
    assert "traceback" not in listed

    response = callers.admin_a.get(f"/api/cron/jobs/{job_id}/runs/{listed['id']}")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success"
    run = body["data"]["run"]
    assert {key: run[key] for key in listed} == listed  # the listed fields, unchanged
    assert run["error"] == "KeyError: 'missing'"
    assert run["log"].endswith(" INFO reading the settings\n")
    assert run["traceback"].startswith("Traceback (most recent call last):\n")
    assert "in _read" in run["traceback"]
    assert run["traceback"].endswith("KeyError: 'missing'\n")


def test_a_run_that_logged_nothing_and_succeeded_has_null_log_and_traceback(
    callers: Callers, clock: FakeClock, tenants: Tenants
) -> None:
    job_id, listed = make_and_run(callers, clock, tenants.a, "echo")
    run = callers.admin_a.get(f"/api/cron/jobs/{job_id}/runs/{listed['id']}").json()["data"]
    assert (run["run"]["log"], run["run"]["traceback"]) == (None, None)


def test_who_may_read_a_run_is_who_may_see_its_job(
    callers: Callers, clock: FakeClock, tenants: Tenants
) -> None:
    job_a, run_a = make_and_run(callers, clock, tenants.a, "log_and_succeed")
    job_global, run_global = make_and_run(callers, clock, None, "log_and_succeed")
    path_a = f"/api/cron/jobs/{job_a}/runs/{run_a['id']}"
    path_global = f"/api/cron/jobs/{job_global}/runs/{run_global['id']}"

    assert callers.superadmin.get(path_a).status_code == 200
    assert callers.superadmin.get(path_global).status_code == 200
    assert callers.admin_a.get(path_a).status_code == 200
    assert callers.jwt_admin_a.get(path_a).status_code == 200
    assert callers.user.get(path_a).status_code == 403
    assert callers.anonymous.get(path_a).status_code == 401
    # Another tenant's job, or a global one, looks exactly like a job that does not exist.
    ghost = str(uuid.uuid4())
    unknown = callers.admin_b.get(f"/api/cron/jobs/{ghost}/runs/{run_a['id']}").json()
    for caller, path, job_id in [
        (callers.admin_b, path_a, job_a),
        (callers.admin_a, path_global, job_global),
    ]:
        response = caller.get(path)
        assert response.status_code == 404
        assert response.json() == {**unknown, "message": unknown["message"].replace(ghost, job_id)}


def test_a_run_of_another_job_or_an_unknown_run_is_404_and_a_malformed_id_422(
    callers: Callers, clock: FakeClock, tenants: Tenants
) -> None:
    job_a, run_a = make_and_run(callers, clock, tenants.a, "log_and_succeed")
    other_job, _ = make_and_run(callers, clock, tenants.a, "echo")

    # The run exists, but is not this job's: the path names the job, the job has no such run.
    response = callers.admin_a.get(f"/api/cron/jobs/{other_job}/runs/{run_a['id']}")
    assert response.status_code == 404
    assert response.json() == {
        "status": "error",
        "message": f"cron job {other_job} has no run with id {run_a['id']}",
        "errors": [],
    }
    unknown = str(uuid.uuid4())
    response = callers.admin_a.get(f"/api/cron/jobs/{job_a}/runs/{unknown}")
    assert response.status_code == 404
    assert response.json()["message"] == f"cron job {job_a} has no run with id {unknown}"

    response = callers.admin_a.get(f"/api/cron/jobs/{job_a}/runs/not-a-uuid")
    assert response.status_code == 422
    body = response.json()
    assert body["status"] == "error"
    assert [error["field"] for error in body["errors"]] == ["path.run_id"]
