"""The pictures' data over HTTP: each job's recent runs and the last hour per minute, with
each caller seeing their own tenant's jobs only."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest

from cronbase.store import SqlStore
from cronbase.testing import FakeClock
from tests.api.conftest import Callers


def _create(api: httpx.Client, name: str, function: str = "echo") -> UUID:
    # Yearly, so no slot falls due by itself while the test runs; tests make it due by hand.
    body = {"name": name, "schedule": "cron:0 0 1 1 *", "function_name": function}
    response = api.post("/api/cron/jobs", json=body)
    assert response.status_code == 201, response.text
    return UUID(response.json()["data"]["job"]["id"])


def _run(callers: Callers, store: SqlStore, clock: FakeClock, *jobs: UUID, late: int) -> None:
    """Run the jobs once, each starting `late` seconds after its slot."""
    for job_id in jobs:
        store.update_job(job_id, {"next_run": clock.now()})
    clock.advance(timedelta(seconds=late))
    response = callers.superadmin.post("/api/cron/run")
    assert response.status_code == 200, response.text


@pytest.fixture
def three_jobs(callers: Callers) -> tuple[UUID, UUID, UUID]:
    """Tenant A's job, A's job that always fails, and tenant B's job."""
    return (
        _create(callers.admin_a, "A's job"),
        _create(callers.admin_a, "A's failing job", function="boom"),
        _create(callers.admin_b, "B's job"),
    )


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_recent_runs_are_each_visible_jobs_newest_runs_oldest_first(
    callers: Callers, store: SqlStore, clock: FakeClock, three_jobs: tuple[UUID, UUID, UUID]
) -> None:
    mine, failing, theirs = three_jobs
    for late in (1, 2, 3):
        _run(callers, store, clock, mine, failing, theirs, late=late)
        clock.advance(timedelta(minutes=1))

    query = f"/api/cron/runs/recent?job_id={mine}&job_id={failing}&job_id={theirs}"
    response = callers.admin_a.get(query)
    assert response.status_code == 200, response.text
    runs = response.json()["data"]["runs"]

    assert set(runs) == {str(mine), str(failing)}  # B's job is invisible to admin A
    strip = runs[str(mine)]
    assert [run["status"] for run in strip] == ["succeeded"] * 3
    assert [run["start_lag_ms"] for run in strip] == [1000, 2000, 3000]  # oldest first
    for run in strip:
        lag = _instant(run["started_at"]) - _instant(run["scheduled_for"])
        assert run["start_lag_ms"] == lag.total_seconds() * 1000
        assert run["duration_ms"] == 0  # the clock does not move while a run goes on
        assert set(run) >= {"id", "job_id", "attempt", "trigger", "finished_at"}
        assert not {"error", "result"} & set(run)  # large; the run history has them
    assert [run["status"] for run in runs[str(failing)]] == ["failed"] * 3

    newest = callers.superadmin.get(f"{query}&limit=2").json()["data"]["runs"]
    assert set(newest) == {str(mine), str(failing), str(theirs)}
    assert [run["start_lag_ms"] for run in newest[str(theirs)]] == [2000, 3000]
    assert callers.admin_b.get(f"/api/cron/runs/recent?job_id={mine}").json()["data"] == {
        "runs": {}
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "query.job_id"),
        ("?job_id=not-a-uuid", "query.job_id"),
        (
            "?" + "&".join(f"job_id=00000000-0000-4000-8000-{i:012d}" for i in range(101)),
            "query.job_id",
        ),
        ("?job_id=00000000-0000-4000-8000-000000000000&limit=0", "query.limit"),
        ("?job_id=00000000-0000-4000-8000-000000000000&limit=101", "query.limit"),
        ("?job_id=00000000-0000-4000-8000-000000000000&limit=ten", "query.limit"),
    ],
)
def test_recent_runs_refuses_bad_ids_and_limits_saying_which(
    callers: Callers, query: str, field: str
) -> None:
    response = callers.superadmin.get(f"/api/cron/runs/recent{query}")
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["status"] == "error"
    assert body["errors"][0]["field"].startswith(field), body


def _busy_minutes(api: httpx.Client) -> list[dict[str, Any]]:
    response = api.get("/api/cron/runs/activity")
    assert response.status_code == 200, response.text
    minutes = response.json()["data"]["minutes"]
    assert len(minutes) == 60
    return [minute for minute in minutes if minute["runs"]]


def test_activity_counts_the_last_hours_runs_per_minute_for_the_callers_tenant(
    callers: Callers, store: SqlStore, clock: FakeClock, three_jobs: tuple[UUID, UUID, UUID]
) -> None:
    mine, failing, theirs = three_jobs
    _run(callers, store, clock, mine, failing, theirs, late=4)  # 10:30:04
    clock.advance(timedelta(minutes=2))
    _run(callers, store, clock, theirs, late=10)  # 10:32:14

    everything = _busy_minutes(callers.superadmin)
    assert everything == [
        {
            "minute": "2025-01-15T10:30:00Z",
            "runs": 3,
            "failures": 1,
            "mean_lag_ms": 4000,
            "max_lag_ms": 4000,
        },
        {
            "minute": "2025-01-15T10:32:00Z",
            "runs": 1,
            "failures": 0,
            "mean_lag_ms": 10000,
            "max_lag_ms": 10000,
        },
    ]
    a = _busy_minutes(callers.admin_a)
    assert [(m["minute"], m["runs"], m["failures"]) for m in a] == [("2025-01-15T10:30:00Z", 2, 1)]
    b = _busy_minutes(callers.admin_b)
    assert [(m["minute"], m["runs"], m["failures"]) for m in b] == [
        ("2025-01-15T10:30:00Z", 1, 0),
        ("2025-01-15T10:32:00Z", 1, 0),
    ]
    quiet = callers.superadmin.get("/api/cron/runs/activity").json()["data"]["minutes"][0]
    assert quiet == {
        "minute": "2025-01-15T09:33:00Z",
        "runs": 0,
        "failures": 0,
        "mean_lag_ms": None,
        "max_lag_ms": None,
    }


@pytest.mark.parametrize(
    "path", ["/api/cron/runs/activity", "/api/cron/runs/recent?job_id=" + "0" * 32]
)
def test_the_pictures_data_is_for_admins_and_needs_a_token(callers: Callers, path: str) -> None:
    assert callers.user.get(path).status_code == 403
    assert callers.anonymous.get(path).status_code == 401
    assert callers.jwt_admin_a.get(path).status_code == 200
