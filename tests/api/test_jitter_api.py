"""Staggered schedules over HTTP: jitter_seconds on a job, and the preview of its real times."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.api.conftest import Callers


def _at(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def test_a_jobs_jitter_shows_in_its_next_run_and_its_preview(callers: Callers) -> None:
    api = callers.superadmin
    created = api.post(
        "/api/cron/jobs",
        json={"name": "Spread", "schedule": "daily", "function_name": "echo",
              "jitter_seconds": 3600},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    job = created.json()["data"]["job"]
    assert job["jitter_seconds"] == 3600
    midnight = datetime.fromisoformat("2025-01-16T00:00:00+00:00")  # the clock: Jan 15, 10:30
    offset = _at(job["next_run"]) - midnight
    assert timedelta(0) <= offset < timedelta(hours=1)

    preview = api.post(
        "/api/cron/schedules/preview",
        json={"schedule": "daily", "count": 2, "job_id": job["id"]},
    ).json()["data"]
    assert preview["offset_seconds"] == offset.total_seconds()
    assert [_at(t) for t in preview["next_runs"]] == [
        midnight + offset,
        midnight + timedelta(days=1) + offset,
    ]
    plain = api.post("/api/cron/schedules/preview", json={"schedule": "daily", "count": 1})
    assert plain.json()["data"]["offset_seconds"] == 0
    assert plain.json()["data"]["next_runs"] == ["2025-01-16T00:00:00Z"]
    # An every-minute schedule caps the offset under a minute, whatever the jitter.
    capped = api.post(
        "/api/cron/schedules/preview",
        json={"schedule": "every_1_minutes", "count": 1, "job_id": job["id"]},
    ).json()["data"]
    assert capped["offset_seconds"] < 60

    refused = api.put(f"/api/cron/jobs/{job['id']}", json={"jitter_seconds": 3601})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "jitter_seconds"
    assert "0 (no jitter) to 3600" in refused.json()["errors"][0]["message"]
    other = callers.admin_a.post(
        "/api/cron/schedules/preview",
        json={"schedule": "daily", "job_id": job["id"]},  # a global job: not the admin's
    )
    assert other.status_code == 404
