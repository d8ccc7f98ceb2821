"""A job's keep_runs over HTTP: set, changed, cleared, and refused out of range."""

from __future__ import annotations

from tests.api.conftest import Callers

JOB = {"name": "Digest", "schedule": "hourly", "function_name": "echo"}


def test_keep_runs_is_set_changed_and_cleared(callers: Callers) -> None:
    api = callers.superadmin
    created = api.post("/api/cron/jobs", json={**JOB, "keep_runs": 50})
    assert created.status_code == 201, created.text
    job = created.json()["data"]["job"]
    assert job["keep_runs"] == 50
    changed = api.put(f"/api/cron/jobs/{job['id']}", json={"keep_runs": 7})
    assert changed.json()["data"]["job"]["keep_runs"] == 7
    cleared = api.put(f"/api/cron/jobs/{job['id']}", json={"keep_runs": None})
    assert cleared.json()["data"]["job"]["keep_runs"] is None
    assert api.post("/api/cron/jobs", json=JOB).json()["data"]["job"]["keep_runs"] is None


def test_keep_runs_out_of_range_is_a_422_that_says_what_is_allowed(callers: Callers) -> None:
    api = callers.superadmin
    for bad in (0, 100_001, "5", 2.5):
        refused = api.post("/api/cron/jobs", json={**JOB, "keep_runs": bad})
        assert refused.status_code == 422, refused.text
        [error] = refused.json()["errors"]
        assert error["field"] == "keep_runs"
    refused = api.post("/api/cron/jobs", json={**JOB, "keep_runs": 0})
    assert "from 1 to 100000" in refused.json()["errors"][0]["message"]
    assert api.get("/api/cron/jobs").json()["data"]["jobs"] == []
