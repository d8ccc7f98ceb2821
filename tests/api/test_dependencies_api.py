"""Dependencies over HTTP: depends_on and wait_for in a job's body, refusals with their field,
and DELETE refused (409) for a job others depend on unless ?detach=true."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cronbase.registry import JobRegistry
from cronbase.runner import Runner
from cronbase.store import SqlStore
from cronbase.testing import FakeClock
from tests.api.conftest import Callers


def body(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "schedule": "hourly", "function_name": "echo", **fields}


def create(client: Any, name: str, **fields: Any) -> dict[str, Any]:
    response = client.post("/api/cron/jobs", json=body(name, **fields))
    assert response.status_code == 201, response.text
    return response.json()["data"]["job"]


def test_a_chain_is_created_read_and_refused_when_it_would_loop(callers: Callers) -> None:
    root = callers.superadmin
    a = create(root, "A")
    b = create(root, "B", schedule="on_demand", depends_on=[{"job_id": a["id"]}])
    assert b["next_run"] is None
    assert b["depends_on"] == [{"job_id": a["id"], "on": "success"}]
    assert b["wait_for"] == "any"
    read = root.get(f"/api/cron/jobs/{b['id']}").json()["data"]["job"]
    assert read["depends_on"] == b["depends_on"]

    looped = root.put(f"/api/cron/jobs/{a['id']}", json={"depends_on": [{"job_id": b["id"]}]})
    assert looped.status_code == 422, looped.text
    assert looped.json()["errors"] == [
        {
            "field": "depends_on",
            "message": "would make a dependency cycle: A -> B -> A (each runs after the last)",
        }
    ]
    bad = root.post(
        "/api/cron/jobs", json=body("C", depends_on=[{"job_id": a["id"], "on": "maybe"}])
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "depends_on.0.on"
    extra = root.post(
        "/api/cron/jobs", json=body("C", depends_on=[{"job_id": a["id"], "when": "now"}])
    )
    assert extra.status_code == 422


def test_delete_is_refused_while_others_depend_unless_detached(callers: Callers) -> None:
    admin = callers.admin_a
    a = create(admin, "A")
    create(admin, "B", depends_on=[{"job_id": a["id"], "on": "failure"}])
    refused = admin.delete(f"/api/cron/jobs/{a['id']}")
    assert refused.status_code == 409
    assert "B depend(s) on this job" in refused.json()["message"]
    assert "detach=true" in refused.json()["message"]
    assert admin.get(f"/api/cron/jobs/{a['id']}").status_code == 200

    assert admin.delete(f"/api/cron/jobs/{a['id']}?detach=true").status_code == 200
    [b] = admin.get("/api/cron/jobs").json()["data"]["jobs"]
    assert b["depends_on"] == []


def test_an_admin_cannot_depend_on_another_tenants_job(callers: Callers) -> None:
    theirs = create(callers.admin_b, "Theirs")
    refused = callers.admin_a.post(
        "/api/cron/jobs", json=body("Mine", depends_on=[{"job_id": theirs["id"]}])
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "depends_on.0.job_id"
    assert "no job with id" in refused.json()["errors"][0]["message"]


def test_the_dependencies_endpoint_walks_both_ways_with_depth(callers: Callers) -> None:
    root = callers.superadmin
    a = create(root, "A")
    b = create(root, "B", schedule="on_demand", depends_on=[{"job_id": a["id"]}])
    c = create(root, "C", schedule="on_demand", depends_on=[{"job_id": b["id"], "on": "failure"}])
    d = create(root, "D", schedule="on_demand", depends_on=[{"job_id": c["id"]}])
    response = root.get(f"/api/cron/jobs/{c['id']}/dependencies")
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["job"]["id"] == c["id"]
    assert [(j["name"], j["depth"], j["on"]) for j in data["upstream"]] == [
        ("B", 1, "failure"),
        ("A", 2, "success"),
    ]
    assert [(j["name"], j["depth"], j["id"]) for j in data["downstream"]] == [("D", 1, d["id"])]
    lonely = create(root, "Lonely")
    empty = root.get(f"/api/cron/jobs/{lonely['id']}/dependencies").json()["data"]
    assert (empty["upstream"], empty["downstream"]) == ([], [])
    # another tenant's admin sees no such job
    assert callers.admin_a.get(f"/api/cron/jobs/{c['id']}/dependencies").status_code == 404


def test_a_backfill_over_http_previews_queues_shows_progress_and_cancels(
    callers: Callers,
) -> None:
    admin = callers.admin_a
    job = create(admin, "Hourly", timezone="Europe/Berlin")
    path = f"/api/cron/jobs/{job['id']}/backfills"
    day = {"start": "2024-10-27T00:00:00+02:00", "end": "2024-10-28T00:00:00+01:00"}
    preview = admin.post(path, json={**day, "dry_run": True})
    assert preview.status_code == 200, preview.text
    assert preview.json()["data"]["backfill"] is None
    assert len(preview.json()["data"]["slots"]) == 25  # the day the clocks go back

    queued = admin.post(path, json={**day, "include_dependents": True})
    assert queued.status_code == 201, queued.text
    backfill = queued.json()["data"]["backfill"]
    assert (backfill["queued"], backfill["pending"], backfill["done"]) == (25, 25, False)
    assert backfill["include_dependents"] is True
    progress = admin.get(f"{path}/{backfill['id']}")
    assert progress.json()["data"]["backfill"]["pending"] == 25
    cancelled = admin.delete(f"{path}/{backfill['id']}")
    assert cancelled.status_code == 200
    assert cancelled.json()["data"]["backfill"]["removed"] == 25
    assert cancelled.json()["data"]["backfill"]["cancelled_at"] is not None

    naive = admin.post(path, json={"start": "2024-10-27T00:00:00", "end": day["end"]})
    assert naive.status_code == 422
    assert naive.json()["errors"][0]["field"] == "start"
    too_many = admin.post(path, json={"start": "2020-01-01T00:00:00Z", "end": day["end"]})
    assert too_many.status_code == 422
    assert "at most 1,000 per backfill" in too_many.json()["message"]
    assert admin.get(f"{path}/{job['id']}").status_code == 404  # no such backfill
    assert callers.admin_b.post(path, json=day).status_code == 404  # another tenant's job


def test_a_backfill_replays_only_the_slots_the_schedule_has_passed(
    callers: Callers, clock: FakeClock
) -> None:
    # A range reaching into the future queued runs of slots to come: they ran at once, before
    # their time, and the schedule then ran each of them again.
    admin = callers.admin_a
    job = create(admin, "Hourly")  # made at 10:30: its next run is 11:00
    path = f"/api/cron/jobs/{job['id']}/backfills"
    ahead = {"start": "2025-01-15T08:00:00Z", "end": "2025-01-15T12:00:00Z"}
    for dry_run in (True, False):
        refused = admin.post(path, json={**ahead, "dry_run": dry_run})
        assert refused.status_code == 422, refused.text
        [error] = refused.json()["errors"]
        assert error["field"] == "end"
        assert "the future" in error["message"]
        assert refused.json()["message"].startswith("invalid backfill: end: ")  # not "job"
        assert "2025-01-15T10:30:00Z" in error["message"]  # now, so the fix is plain
    assert admin.get(f"/api/cron/jobs/{job['id']}/runs").json()["data"]["runs"] == []

    # 11:00 has passed but the schedule has not run it yet: it is the schedule's to run.
    clock.advance(timedelta(minutes=31))
    until_now = {"start": "2025-01-15T09:00:00Z", "end": "2025-01-15T11:01:00Z"}
    queued = admin.post(path, json=until_now)
    assert queued.status_code == 201, queued.text
    assert queued.json()["data"]["slots"] == ["2025-01-15T09:00:00Z", "2025-01-15T10:00:00Z"]


def test_a_tenant_admin_sees_which_upstream_run_started_a_run(
    callers: Callers, store: SqlStore, registry: JobRegistry, clock: FakeClock
) -> None:
    admin = callers.admin_a
    a = create(admin, "A", schedule="on_demand")
    b = create(admin, "B", schedule="on_demand", depends_on=[{"job_id": a["id"]}])
    assert admin.post(f"/api/cron/jobs/{a['id']}/run").status_code == 202
    Runner(store, registry, clock).run_due()  # A, then the run of B it started

    [run_a] = admin.get(f"/api/cron/jobs/{a['id']}/runs").json()["data"]["runs"]
    [run_b] = admin.get(f"/api/cron/jobs/{b['id']}/runs").json()["data"]["runs"]
    assert run_b["upstream"] == [{"run_id": run_a["id"], "job_id": a["id"], "job_name": "A"}]
