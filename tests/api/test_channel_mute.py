"""A channel can be muted until a given time through the API: it is visible there, checked,
and the channel receives nothing meanwhile."""

from __future__ import annotations

from datetime import timedelta

from cronbase.store import SqlStore
from cronbase.testing import FakeClock
from tests.api.conftest import Callers


def test_a_muted_channel_gets_nothing_until_its_mute_ends(
    callers: Callers, clock: FakeClock, store: SqlStore
) -> None:
    body = {"name": "ops", "kind": "webhook", "url": "http://127.0.0.1:9/hook"}
    made = callers.admin_a.post("/api/cron/channels", json=body)
    assert made.status_code == 201, made.text
    channel = made.json()["data"]["channel"]["id"]
    until = (clock.now() + timedelta(minutes=30)).isoformat().replace("+00:00", "Z")
    naive = callers.admin_a.put(
        f"/api/cron/channels/{channel}", json={"muted_until": "2030-01-01T00:00:00"}
    )
    assert naive.status_code == 422
    assert naive.json()["errors"][0]["field"] == "muted_until"
    muted = callers.admin_a.put(f"/api/cron/channels/{channel}", json={"muted_until": until})
    assert muted.status_code == 200, muted.text
    assert muted.json()["data"]["channel"]["muted_until"] == until
    job = {"name": "Fails", "schedule": "every_5_minutes", "function_name": "boom"}
    assert callers.admin_a.post("/api/cron/jobs", json=job).status_code == 201

    clock.advance(timedelta(minutes=5))
    callers.superadmin.post("/api/cron/run")
    assert store.list_notifications() == []  # muted
    clock.advance(timedelta(minutes=30))
    callers.superadmin.post("/api/cron/run")
    # the mute is over: the slots missed meanwhile and the failure are told
    assert sorted(n.event for n in store.list_notifications()) == ["run.failed", "run.missed"]
    unmuted = callers.admin_a.put(f"/api/cron/channels/{channel}", json={"muted_until": None})
    assert unmuted.json()["data"]["channel"]["muted_until"] is None


def test_a_channel_following_a_deleted_job_can_still_be_muted_and_renamed(
    callers: Callers,
) -> None:
    job = {"name": "Gone soon", "schedule": "hourly", "function_name": "echo"}
    job_id = callers.admin_a.post("/api/cron/jobs", json=job).json()["data"]["job"]["id"]
    body = {"name": "ops", "kind": "webhook", "url": "http://127.0.0.1:9/h", "job_ids": [job_id]}
    channel = callers.admin_a.post("/api/cron/channels", json=body).json()["data"]["channel"]
    assert callers.admin_a.delete(f"/api/cron/jobs/{job_id}").status_code == 200
    path = f"/api/cron/channels/{channel['id']}"

    muted = callers.admin_a.put(path, json={"muted_until": "2030-01-01T00:00:00Z"})
    assert muted.status_code == 200, muted.text
    assert muted.json()["data"]["channel"]["muted_until"] == "2030-01-01T00:00:00Z"
    renamed = callers.admin_a.put(path, json={"name": "ops (old)"})
    assert renamed.status_code == 200, renamed.text
    # the list it is given is checked, as when it was made
    refused = callers.admin_a.put(path, json={"job_ids": [job_id]})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "job_ids.0"
