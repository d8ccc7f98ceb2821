"""GET /api/cron/jobs/{id}/explain through real HTTP: the envelope, the state and its sentence,
what each role sees of the workers, and the 4xx answers."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import httpx

from cronbase.store import SqlStore
from cronbase.store.workers import WorkerStore
from cronbase.testing import FakeClock
from tests.api.conftest import Callers


def _create(api: httpx.Client, **extra: object) -> UUID:
    body = {"name": "Digest", "schedule": "every_5_minutes", "function_name": "echo", **extra}
    response = api.post("/api/cron/jobs", json=body)
    assert response.status_code == 201, response.text
    return UUID(response.json()["data"]["job"]["id"])


def test_explain_answers_the_state_a_sentence_and_the_next_five_times(callers: Callers) -> None:
    job_id = _create(callers.admin_a, timezone="Europe/Berlin")
    response = callers.admin_a.get(f"/api/cron/jobs/{job_id}/explain")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success"
    found = body["data"]["explanation"]
    assert found["state"] == "scheduled"
    assert found["summary"] == "It is scheduled: the next run is at 2025-01-15T10:35:00Z."
    assert [t["utc"] for t in found["next_runs"]][:2] == [
        "2025-01-15T10:35:00Z",
        "2025-01-15T10:40:00Z",
    ]
    assert found["next_runs"][0]["local"] == "2025-01-15T11:35:00+01:00"
    assert len(found["next_runs"]) == 5


def test_an_overdue_job_says_whether_any_worker_lives_and_only_superadmins_see_hosts(
    callers: Callers, store: SqlStore, clock: FakeClock
) -> None:
    job_id = _create(callers.admin_a)
    clock.advance(timedelta(minutes=30))  # 10:35 passed 25 minutes ago: over the 10-minute grace
    found = callers.admin_a.get(f"/api/cron/jobs/{job_id}/explain").json()["data"]["explanation"]
    assert found["state"] == "overdue_no_worker"
    assert "no worker is alive" in found["summary"]
    WorkerStore(store.engine).register("w-1", "host-a", 101, clock.now(), threads=4)
    found = callers.admin_a.get(f"/api/cron/jobs/{job_id}/explain").json()["data"]["explanation"]
    assert found["state"] == "overdue_workers_busy"
    assert found["workers"] == {
        "alive": 1,
        "threads": 4,
        "running": 0,
        "free_slots": 4,
        "hosts": None,
    }
    assert "its 1 live worker has 4 free slots: none claimed it" in found["summary"]
    everything = callers.superadmin.get(f"/api/cron/jobs/{job_id}/explain").json()["data"]
    assert everything["explanation"]["workers"]["hosts"] == [
        {"id": "w-1", "host": "host-a", "pid": 101, "threads": 4, "running": 0, "free_slots": 4}
    ]


def test_a_due_job_with_no_worker_alive_does_not_promise_that_a_worker_starts_it(
    callers: Callers, store: SqlStore, clock: FakeClock
) -> None:
    job_id = _create(callers.admin_a)
    clock.advance(timedelta(minutes=6))  # 10:35 passed a minute ago: due, not yet overdue
    found = callers.admin_a.get(f"/api/cron/jobs/{job_id}/explain").json()["data"]["explanation"]
    assert found["state"] == "due"
    assert "no worker is alive" in found["summary"]
    assert "cronbase worker" in found["summary"]
    assert "a worker should start it shortly" not in found["summary"]
    WorkerStore(store.engine).register("w-1", "host-a", 101, clock.now(), threads=4)
    found = callers.admin_a.get(f"/api/cron/jobs/{job_id}/explain").json()["data"]["explanation"]
    assert found["summary"] == (
        "It is due now and a worker should start it shortly (1 live worker, 4 free slots)."
    )


def test_another_tenants_job_or_no_job_is_404_and_a_bad_id_422(callers: Callers) -> None:
    job_id = _create(callers.admin_a)
    assert callers.admin_b.get(f"/api/cron/jobs/{job_id}/explain").status_code == 404
    assert callers.admin_a.get(f"/api/cron/jobs/{uuid4()}/explain").status_code == 404
    bad = callers.admin_a.get("/api/cron/jobs/not-an-id/explain")
    assert bad.status_code == 422
    assert callers.user.get(f"/api/cron/jobs/{job_id}/explain").status_code == 403


def test_a_muted_job_says_so_in_words_and_in_fields(callers: Callers) -> None:
    job_id = _create(callers.admin_a)
    until = "2030-01-01T00:00:00Z"
    muted = callers.admin_a.put(f"/api/cron/jobs/{job_id}", json={"muted_until": until})
    assert muted.status_code == 200, muted.text
    found = callers.admin_a.get(f"/api/cron/jobs/{job_id}/explain").json()["data"]["explanation"]
    assert (found["muted_until"], found["alerting_since"]) == (until, None)
    assert f"Alerts about it are muted until {until}." in found["details"]
