"""Unknown query parameters get 422 naming them; every documented one is known (over HTTP)."""

from __future__ import annotations

import pytest

from tests.api.conftest import Callers


def test_an_unknown_query_parameter_is_refused_with_its_name(callers: Callers) -> None:
    api = callers.superadmin
    refused = api.get("/api/cron/jobs", params={"tenant": "acme", "is_active": "true"})
    assert refused.status_code == 422
    body = refused.json()
    assert body["status"] == "error"
    [error] = body["errors"]
    assert error["field"] == "query.tenant"
    assert "unknown query parameter" in error["message"]
    assert "tenant_id" in error["message"]  # it says what the endpoint takes
    two = api.get("/api/cron/jobs", params={"pagee": "2", "sortt": "name"})
    assert [e["field"] for e in two.json()["errors"]] == ["query.pagee", "query.sortt"]


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        (
            "GET",
            "/api/cron/jobs",
            {"tenant_id": None, "is_active": "true", "limit": "5", "offset": "0"},
        ),
        ("GET", "/api/cron/runs/latest", {"job_id": "00000000-0000-0000-0000-000000000001"}),
        ("GET", "/api/cron/workers", {}),
        ("GET", "/api/cron/me", {}),
    ],
)
def test_every_documented_parameter_is_known(
    callers: Callers, method: str, path: str, params: dict[str, str | None]
) -> None:
    sent = {k: v for k, v in params.items() if v is not None}
    answered = callers.superadmin.request(method, path, params=sent)
    assert answered.status_code == 200, answered.text


def test_documented_parameters_of_a_jobs_endpoints_are_known(callers: Callers) -> None:
    api = callers.superadmin
    job = api.post(
        "/api/cron/jobs", json={"name": "J", "schedule": "hourly", "function_name": "echo"}
    ).json()["data"]["job"]
    runs = api.get(f"/api/cron/jobs/{job['id']}/runs", params={"limit": "5", "offset": "0"})
    assert runs.status_code == 200, runs.text
    openapi = api.get("/openapi.json").json()
    delete_params = {
        p["name"]
        for p in openapi["paths"]["/api/cron/jobs/{job_id}"]["delete"].get("parameters", [])
        if p["in"] == "query"
    }
    gone = api.delete(f"/api/cron/jobs/{job['id']}", params=dict.fromkeys(delete_params, "true"))
    assert gone.status_code == 200, gone.text


def test_without_a_valid_token_unknown_parameters_still_get_401(callers: Callers) -> None:
    assert callers.anonymous.get("/api/cron/jobs", params={"tenant": "x"}).status_code == 401
    assert callers.bad_token.get("/api/cron/jobs", params={"tenant": "x"}).status_code == 401
