"""GET /api/cron/jobs/{id}/audit over HTTP: what each action through the API records, pages by
cursor newest first, the log of a deleted job, and refused query parameters. Who may read
which log is in test_isolation.py."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.conftest import Callers, Tenants


def entries(client: httpx.Client, job_id: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"/api/cron/jobs/{job_id}/audit", params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["data"]["entries"])


def test_the_api_records_each_action_and_pages_the_log(callers: Callers, tenants: Tenants) -> None:
    admin = callers.admin_a
    body = {"name": "Report", "schedule": "hourly", "function_name": "echo"}
    job = admin.post("/api/cron/jobs", json=body).json()["data"]["job"]
    path = f"/api/cron/jobs/{job['id']}"
    assert admin.put(path, json={"is_active": False}).status_code == 200
    assert admin.put(path, json={"is_active": True}).status_code == 200
    assert admin.put(path, json={"schedule": "daily", "name": "Report"}).status_code == 200
    assert admin.post(f"{path}/run").status_code == 202
    window = {"start": "2025-01-13T00:00:00Z", "end": "2025-01-14T00:00:00Z"}
    backfill = admin.post(f"{path}/backfills", json=window).json()["data"]["backfill"]
    assert admin.delete(f"{path}/backfills/{backfill['id']}").status_code == 200

    told = entries(admin, job["id"])
    assert [e["action"] for e in told] == [
        "backfill_cancelled",
        "backfilled",
        "ran",
        "updated",
        "resumed",
        "paused",
        "created",
    ]
    assert {(e["actor"], e["actor_role"], e["tenant_id"]) for e in told} == {
        ("admin@a.test", "admin", str(tenants.a))
    }
    assert told[3]["changes"] == {"schedule": {"from": "hourly", "to": "daily"}}
    assert told[5]["changes"] == {"is_active": {"from": True, "to": False}}
    assert told[1]["detail"]["backfill_id"] == backfill["id"]
    assert told[1]["detail"]["queued"] == 1  # a daily job by then

    # Pages of two, by cursor: the same entries, each once, in the same order.
    paged, cursor = [], None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        data = admin.get(f"{path}/audit", params=params).json()["data"]
        assert data["pagination"]["limit"] == 2
        paged += data["entries"]
        cursor = data["pagination"]["next_cursor"]
        if cursor is None:
            break
    assert paged == told

    assert admin.delete(path).status_code == 200
    assert admin.get(path).status_code == 404
    gone = entries(admin, job["id"])
    assert gone[0]["action"] == "deleted"
    assert gone[0]["detail"] == {"name": "Report"}
    assert gone[1:] == told


def test_bad_query_parameters_are_refused_with_what_is_wrong(callers: Callers) -> None:
    api = callers.superadmin
    body = {"name": "J", "schedule": "hourly", "function_name": "echo"}
    job = api.post("/api/cron/jobs", json=body).json()["data"]["job"]
    path = f"/api/cron/jobs/{job['id']}/audit"
    for params, field, says in [
        ({"offset": "0"}, "query.offset", "unknown query parameter"),
        ({"cursor": "not-a-cursor"}, "query.cursor", "malformed cursor"),
        ({"limit": "0"}, "query.limit", "greater than or equal to 1"),
        ({"limit": "501"}, "query.limit", "less than or equal to 500"),
    ]:
        response = api.get(path, params=params)
        assert response.status_code == 422, (params, response.text)
        [error] = response.json()["errors"]
        assert error["field"] == field, (params, error)
        assert says in error["message"], (params, error)
    unknown = api.get("/api/cron/jobs/00000000-0000-0000-0000-000000000007/audit")
    assert unknown.status_code == 404
