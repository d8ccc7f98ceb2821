"""/api/cron/channels over HTTP, with a real receiver that verifies every signature."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from cronbase.auth import Role, hash_token, new_token
from cronbase.registry import JobRegistry
from cronbase.store import SqlStore
from cronbase.store.tokens import TokenStore
from cronbase.testing import FakeClock
from tests.api.conftest import Callers, Tenants, serving
from tests.helpers import wait_until
from tests.receivers import WebhookReceiver


def create(api: httpx.Client, **fields: Any) -> httpx.Response:
    body = {"name": "Ops", "kind": "webhook", "url": "http://127.0.0.1:9/hooks", **fields}
    return api.post("/api/cron/channels", json=body)


def made(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    response = create(api, **fields)
    assert response.status_code == 201, response.text
    return response.json()["data"]["channel"]


def test_the_secret_is_shown_once_and_admins_see_their_own_tenants_channels_only(
    callers: Callers, tenants: Tenants
) -> None:
    channel = made(callers.admin_a, name="A's alerts")
    assert channel["secret"].startswith("whsec_")
    assert channel["tenant_id"] == str(tenants.a)
    assert channel["events"] == [  # every event but the opt-in run.succeeded
        "run.failed",
        "run.timed_out",
        "run.abandoned",
        "run.missed",
        "job.overdue",
        "job.recovered",
    ]
    assert channel["job_ids"] is None

    read = callers.admin_a.get(f"/api/cron/channels/{channel['id']}").json()["data"]["channel"]
    assert "secret" not in read
    assert read == {key: value for key, value in channel.items() if key != "secret"}
    [listed] = callers.admin_a.get("/api/cron/channels").json()["data"]["channels"]
    assert listed == read

    assert callers.admin_b.get(f"/api/cron/channels/{channel['id']}").status_code == 404
    assert callers.admin_b.get("/api/cron/channels").json()["data"]["channels"] == []
    assert callers.user.get("/api/cron/channels").status_code == 403
    assert callers.anonymous.get("/api/cron/channels").status_code == 401
    assert create(callers.admin_a, tenant_id=str(tenants.b)).status_code == 403

    glob = made(callers.superadmin, name="Everything")
    assert glob["tenant_id"] is None
    ids = [c["id"] for c in callers.superadmin.get("/api/cron/channels").json()["data"]["channels"]]
    assert sorted(ids) == sorted([channel["id"], glob["id"]])  # made at the same (fake) time
    assert callers.admin_a.get(f"/api/cron/channels/{glob['id']}").status_code == 404


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"kind": "pager"}, "kind", "must be one of"),
        ({"url": "ftp://example.com/x"}, "url", "http:// or https://"),
        ({"url": "   "}, "url", "must not be blank"),
        ({"name": ""}, "name", "must not be blank"),
        ({"events": []}, "events", "non-empty list"),
        ({"events": ["run.failed", "run.exploded"]}, "events", "'run.exploded'"),
        ({"job_ids": []}, "job_ids", "null (every job)"),
        ({"url": "https://127.0.0.1/a b"}, "url", "spaces"),
        # A NUL was stored on SQLite and refused by PostgreSQL without naming the field.
        ({"url": "https://127.0.0.1/a\x00b"}, "url", "control characters"),
        ({"url": "https://127.0.0.1/a\x7fb"}, "url", "control characters"),
    ],
)
def test_a_bad_channel_is_refused_with_the_field_and_nothing_is_stored(
    callers: Callers, fields: dict[str, Any], field: str, says: str
) -> None:
    response = create(callers.admin_a, **fields)
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == field
    assert says in error["message"]
    assert callers.admin_a.get("/api/cron/channels").json()["data"]["channels"] == []


@pytest.mark.usefixtures("tenants")
def test_a_channel_may_name_only_jobs_of_its_own_tenant(callers: Callers) -> None:
    def job(api: httpx.Client, name: str) -> str:
        body = {"name": name, "schedule": "hourly", "function_name": "boom"}
        response = api.post("/api/cron/jobs", json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["data"]["job"]["id"])

    mine, theirs = job(callers.admin_a, "mine"), job(callers.admin_b, "theirs")
    refused = create(callers.admin_a, job_ids=[mine, theirs])
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"] == [
        {"field": "job_ids.1", "message": f"no job with id {theirs} of this channel's tenant"}
    ]
    channel = made(callers.admin_a, job_ids=[mine])
    assert channel["job_ids"] == [mine]
    # A superadmin's global channel may follow any tenant's jobs.
    assert made(callers.superadmin, job_ids=[mine, theirs])["job_ids"] == [mine, theirs]


def test_update_changes_the_given_fields_and_refuses_a_new_kind(callers: Callers) -> None:
    channel = made(callers.admin_a)
    path = f"/api/cron/channels/{channel['id']}"
    updated = callers.admin_a.put(path, json={"events": ["run.succeeded"], "name": "Wins"})
    assert updated.status_code == 200, updated.text
    data = updated.json()["data"]["channel"]
    assert (data["name"], data["events"], data["url"]) == (
        "Wins",
        ["run.succeeded"],
        channel["url"],
    )

    muted = callers.admin_a.put(path, json={"muted_until": "2025-01-15T12:00:00+01:00"})
    assert muted.status_code == 200, muted.text
    assert muted.json()["data"]["channel"]["muted_until"] == "2025-01-15T11:00:00Z"
    naive = callers.admin_a.put(path, json={"muted_until": "2025-01-15T12:00:00"})
    assert naive.status_code == 422
    assert naive.json()["errors"][0]["field"] == "muted_until"
    unmuted = callers.admin_a.put(path, json={"muted_until": None})
    assert unmuted.json()["data"]["channel"]["muted_until"] is None

    refused = callers.admin_a.put(path, json={"kind": "email"})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "kind"
    assert callers.admin_a.put(path, json={"url": "nope"}).status_code == 422
    assert callers.admin_b.put(path, json={"name": "mine now"}).status_code == 404
    assert callers.admin_a.get(path).json()["data"]["channel"]["name"] == "Wins"

    assert callers.admin_a.delete(path).json()["data"] == {"id": channel["id"], "deleted": True}
    assert callers.admin_a.get(path).status_code == 404


def test_a_test_message_reaches_a_real_receiver_signed_and_shows_in_the_deliveries(
    callers: Callers, receiver: WebhookReceiver
) -> None:
    channel = made(callers.admin_a, url=receiver.url)
    receiver.secrets = [channel["secret"]]
    path = f"/api/cron/channels/{channel['id']}"

    tested = callers.admin_a.post(f"{path}/test")
    assert tested.status_code == 200, tested.text
    result = tested.json()["data"]["test"]
    assert (result["delivered"], result["status_code"], result["error"]) == (True, 204, None)
    [request] = receiver.received
    assert request.verified_with == [channel["secret"]]
    assert request.payload["event"] == "channel.test"
    assert request.headers["content-type"] == "application/json"

    [delivery] = callers.admin_a.get(f"{path}/deliveries").json()["data"]["deliveries"]
    assert delivery["notification_id"] == request.webhook_id
    assert (delivery["event"], delivery["attempt"], delivery["status_code"]) == (
        "channel.test",
        1,
        204,
    )
    assert delivery["notification_status"] == "delivered"
    assert callers.admin_b.get(f"{path}/deliveries").status_code == 404


def test_a_test_message_to_a_receiver_that_is_down_says_why(
    callers: Callers, receiver: WebhookReceiver
) -> None:
    url = receiver.url
    receiver.close()
    channel = made(callers.admin_a, url=url)
    result = callers.admin_a.post(f"/api/cron/channels/{channel['id']}/test").json()["data"]
    assert result["test"]["delivered"] is False
    assert result["test"]["status_code"] is None
    assert "ConnectError" in result["test"]["error"]


def test_after_a_rotation_messages_carry_both_signatures_for_the_grace_period(
    callers: Callers, receiver: WebhookReceiver, clock: FakeClock
) -> None:
    channel = made(callers.admin_a, url=receiver.url)
    path = f"/api/cron/channels/{channel['id']}"
    rotated = callers.admin_a.post(f"{path}/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["data"]["channel"]
    assert new["secret"].startswith("whsec_")
    assert new["secret"] != channel["secret"]
    assert new["previous_secret_until"] == "2025-01-16T10:30:00Z"  # 24 h after now

    receiver.secrets = [channel["secret"], new["secret"]]
    callers.admin_a.post(f"{path}/test")
    assert receiver.received[-1].verified_with == [channel["secret"], new["secret"]]

    clock.advance(timedelta(hours=24, seconds=1))
    callers.admin_a.post(f"{path}/test")
    assert receiver.received[-1].verified_with == [new["secret"]]


def test_a_failed_run_is_delivered_by_the_api_server_and_retried_with_the_same_id(
    callers: Callers, clock: FakeClock
) -> None:
    receiver = WebhookReceiver(fail_first=1)
    try:
        channel = made(callers.admin_a, url=receiver.url)
        receiver.secrets = [channel["secret"]]
        body = {"name": "Nightly", "schedule": "every_5_minutes", "function_name": "boom"}
        job = callers.admin_a.post("/api/cron/jobs", json=body).json()["data"]["job"]
        clock.advance(timedelta(minutes=5))
        assert callers.admin_a.post("/api/cron/run").json()["data"]["summary"]["failed"] == 1

        # The API server's delivery loop sends it (no worker runs); the receiver answers 500.
        path = f"/api/cron/channels/{channel['id']}/deliveries"

        def attempts() -> int:
            return len(callers.admin_a.get(path).json()["data"]["deliveries"])

        wait_until(lambda: attempts() == 1, what="the first attempt, recorded")
        clock.advance(timedelta(seconds=31))  # the first retry comes within 15 to 30 s
        wait_until(lambda: len(receiver.received) == 2, what="the retry")
        first, retry = receiver.received
        assert (first.answered, retry.answered) == (500, 204)
        assert first.webhook_id == retry.webhook_id
        assert retry.verified_with == [channel["secret"]]
        payload = retry.payload
        assert payload["event"] == "run.failed"
        assert payload["job"]["id"] == job["id"]
        assert payload["run"]["error"].startswith("RuntimeError: boom")

        wait_until(lambda: attempts() == 2, what="the retry, recorded")
        deliveries = callers.admin_a.get(path).json()["data"]["deliveries"]
        assert [(d["attempt"], d["status_code"]) for d in deliveries] == [(2, 204), (1, 500)]
        assert deliveries[1]["error"] == "HTTP 500"
        assert {d["notification_status"] for d in deliveries} == {"delivered"}
        # The failed attempt counts in the process's metrics.
        metrics = callers.superadmin.get("/metrics").text
        assert 'cronbase_notification_failures_total{kind="webhook"} 1.0' in metrics
    finally:
        receiver.close()


def test_a_webhook_into_the_local_network_is_refused_unless_allowed(
    store: SqlStore, clock: FakeClock, registry: JobRegistry
) -> None:
    token = new_token()
    TokenStore(store.engine).add("root@x.test", Role.SUPERADMIN, None, hash_token(token))
    with serving(store, clock, registry, allow_private_webhooks=False) as url:
        api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"})
        refused = create(api, url="http://127.0.0.1:8080/hook")
        assert refused.status_code == 422, refused.text
        [error] = refused.json()["errors"]
        assert error["field"] == "url"
        assert "loopback" in error["message"]
        assert "CRONBASE_ALLOW_PRIVATE_WEBHOOKS=1" in error["message"]
        api.close()
