"""The seed's endpoints over HTTP, in the seed's shapes."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import sqlalchemy as sa

from cronbase.store import SqlStore
from cronbase.store.engine import database_location
from cronbase.testing import FakeClock
from tests.api.conftest import Callers


def test_create_list_run_and_read_history_in_the_seed_shapes(
    callers: Callers, clock: FakeClock
) -> None:
    api = callers.superadmin
    created = api.post(
        "/api/cron/jobs",
        json={
            "name": "Mark Users Offline",
            "schedule": "every_5_minutes",
            "function_name": "markUsersOffline",
            "is_active": True,
            "tenant_id": None,
            "metadata": {"timeout_minutes": 5},
        },
    )
    assert created.status_code == 201, created.text
    job = created.json()["data"]["job"]
    assert job["next_run"] == "2025-01-15T10:35:00Z"
    assert job["timezone"] == "UTC"

    listed = api.get("/api/cron/jobs").json()
    assert listed["status"] == "success"
    [seen] = listed["data"]["jobs"]
    assert set(seen) >= {
        "id",
        "name",
        "schedule",
        "function_name",
        "is_active",
        "last_run",
        "next_run",
        "metadata",
        "tenant_id",
        "timezone",
    }
    assert seen == job

    clock.advance(timedelta(minutes=5))
    ran = api.post("/api/cron/run").json()
    assert ran == {
        "status": "success",
        "data": {
            "summary": {"total": 1, "executed": 1, "skipped": 0, "failed": 0},
            "executed": [
                {
                    "id": job["id"],
                    "name": "Mark Users Offline",
                    "function_name": "markUsersOffline",
                    "next_run": "2025-01-15T10:40:00Z",
                    "executed_at": "2025-01-15T10:35:00Z",
                }
            ],
            "failed": [],
        },
    }
    runs = api.get(f"/api/cron/jobs/{job['id']}/runs").json()["data"]["runs"]
    assert [run["status"] for run in runs] == ["succeeded"]
    assert runs[0]["result"] == {
        "users_marked_offline": 0,
        "employees_marked_offline": 0,
        "total": 0,
        "unreadable_last_seen": 0,
    }


def test_update_recomputes_next_run_only_when_the_schedule_changes(
    callers: Callers, clock: FakeClock
) -> None:
    api = callers.superadmin
    job = api.post(
        "/api/cron/jobs", json={"name": "J", "schedule": "hourly", "function_name": "echo"}
    ).json()["data"]["job"]
    assert job["next_run"] == "2025-01-15T11:00:00Z"
    clock.advance(timedelta(hours=2))

    renamed = api.put(f"/api/cron/jobs/{job['id']}", json={"name": "Renamed"}).json()["data"]["job"]
    assert renamed["name"] == "Renamed"
    assert renamed["next_run"] == "2025-01-15T11:00:00Z"  # untouched

    moved = api.put(
        f"/api/cron/jobs/{job['id']}", json={"schedule": "daily", "timezone": "Europe/Berlin"}
    ).json()["data"]["job"]
    assert moved["next_run"] == "2025-01-15T23:00:00Z"

    paused = api.put(f"/api/cron/jobs/{job['id']}", json={"is_active": False}).json()["data"]["job"]
    assert paused["next_run"] == "2025-01-15T23:00:00Z"
    clock.advance(timedelta(days=3))
    resumed = api.put(f"/api/cron/jobs/{job['id']}", json={"is_active": True}).json()["data"]["job"]
    assert resumed["next_run"] == "2025-01-18T23:00:00Z"


def test_rejected_requests_name_the_field_and_change_nothing(
    callers: Callers, store: SqlStore
) -> None:
    api = callers.superadmin
    cases = [
        ({"name": "x", "schedule": "every_7_minutes", "function_name": "echo"}, "schedule"),
        (
            {"name": "x", "schedule": "hourly", "function_name": "echo", "timezone": "Mars/Base"},
            "timezone",
        ),
        ({"name": "x", "schedule": "hourly", "function_name": "nope"}, "function_name"),
        ({"name": "  ", "schedule": "hourly", "function_name": "echo"}, "name"),
        ({"schedule": "hourly", "function_name": "echo"}, "name"),
        ({"name": "x", "schedule": "hourly", "function_name": "echo", "metadata": [1]}, "metadata"),
        (
            {
                "name": "x",
                "schedule": "hourly",
                "function_name": "echo",
                "tenant_id": "00000000-0000-0000-0000-000000000007",
            },
            "tenant_id",
        ),
        ({"name": "x", "schedule": "hourly", "function_name": "echo", "colour": "red"}, "colour"),
    ]
    for body, field in cases:
        response = api.post("/api/cron/jobs", json=body)
        assert response.status_code == 422, (body, response.text)
        error = response.json()
        assert error["status"] == "error"
        assert field in [e["field"] for e in error["errors"]], (body, error)
        assert error["message"]
    assert store.list_jobs() == []


def test_malformed_requests_get_a_4xx_in_the_envelope(callers: Callers) -> None:
    api = callers.superadmin
    responses = [
        api.post(
            "/api/cron/jobs", content=b"{not json", headers={"content-type": "application/json"}
        ),
        api.get("/api/cron/jobs/not-a-uuid"),
        api.get("/api/cron/jobs", params={"limit": 10**30}),
        api.get("/api/cron/jobs", params={"is_active": "perhaps"}),
        api.post(
            "/api/cron/jobs",
            json={"name": "x" * 100_000, "schedule": "hourly", "function_name": "echo"},
        ),
        api.post(
            "/api/cron/jobs",
            json={"name": "bell\x07", "schedule": "hourly", "function_name": "echo"},
        ),
        api.post(
            "/api/cron/jobs",
            json={
                "name": "nul",
                "schedule": "hourly",
                "function_name": "echo",
                "metadata": {"k": "a\x00b"},
            },
        ),
        api.post(
            "/api/cron/jobs", content=b"x" * 2_000_000, headers={"content-type": "application/json"}
        ),
        api.get("/api/cron/jobs/00000000-0000-0000-0000-000000000000"),
        api.get("/no/such/path"),
    ]
    for response in responses:
        assert 400 <= response.status_code < 500, (response.request.url, response.text)
        assert response.json()["status"] == "error"
    assert responses[0].status_code == 400
    assert responses[7].status_code == 413
    assert responses[8].status_code == 404


def test_metadata_with_an_unpaired_surrogate_is_refused_at_metadata(callers: Callers) -> None:
    # JSON may escape half of a surrogate pair ("\\ud800"); measuring the metadata's size
    # encoded it as UTF-8 and raised: a 500 for a POST or a PUT with such a value or key.
    api = callers.superadmin
    body = {"name": "half a pair", "schedule": "hourly", "function_name": "echo"}
    job = api.post("/api/cron/jobs", json=body).json()["data"]["job"]
    for metadata in ({"k": "a\ud800"}, {"\udfff": 1}, {"deep": [{"k": "\ud83d"}]}):
        sent = {"content-type": "application/json"}  # json.dumps escapes it, as clients do
        for response in (
            api.post(
                "/api/cron/jobs", content=json.dumps({**body, "metadata": metadata}), headers=sent
            ),
            api.put(
                f"/api/cron/jobs/{job['id']}",
                content=json.dumps({"metadata": metadata}),
                headers=sent,
            ),
        ):
            assert response.status_code == 422, (metadata, response.text)
            [error] = response.json()["errors"]
            assert error["field"] == "metadata"
            assert "unpaired surrogate" in error["message"]
    assert api.get(f"/api/cron/jobs/{job['id']}").json()["data"]["job"]["metadata"] == {}
    assert len(api.get("/api/cron/jobs").json()["data"]["jobs"]) == 1


def test_functions_preview_and_health(callers: Callers) -> None:
    api = callers.superadmin
    names = [f["name"] for f in api.get("/api/cron/functions").json()["data"]["functions"]]
    assert {"markUsersOffline", "cleanOldActivities", "syncDenormalizedFields"} <= set(names)

    preview = api.post(
        "/api/cron/schedules/preview",
        json={"schedule": "cron:0 2 * * *", "timezone": "UTC", "count": 3},
    ).json()
    assert preview["data"]["next_runs"] == [
        "2025-01-16T02:00:00Z",
        "2025-01-17T02:00:00Z",
        "2025-01-18T02:00:00Z",
    ]
    assert "02:00" in preview["data"]["description"]
    bad = api.post("/api/cron/schedules/preview", json={"schedule": "cron:0 2 * *"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "schedule"

    assert callers.anonymous.get("/healthz").json()["data"] == {"status": "ok"}
    ready = callers.anonymous.get("/readyz").json()
    assert ready["data"]["database"] == "ok"


def test_readyz_names_the_database_that_is_behind(base_url: str, store: SqlStore) -> None:
    with store.transaction() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0001'"))
    ready = httpx.get(f"{base_url}/readyz")
    assert ready.status_code == 503
    message = ready.json()["message"]
    assert f"the database {database_location(store.engine.url)} has schema revision 0001" in (
        message
    )
    assert "run `cronbase migrate`" in message
