"""The outbox on a real store: which runs write which notifications, to which channels, in the
transaction that records them; leases on notifications; pruning."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from cronbase.jobs import Job
from cronbase.notify.model import Attempt, Finished, NotificationStatus
from cronbase.registry import JobContext, JobRegistry
from cronbase.runner import Runner
from cronbase.store import SqlStore
from cronbase.testing import FakeClock
from tests.helpers import MakeJob

LEASE = timedelta(seconds=30)


@pytest.fixture
def registry() -> JobRegistry:
    registry = JobRegistry()

    @registry.job("boom")
    def boom(ctx: JobContext) -> dict[str, Any]:
        ctx.logger.info("reading the settings")
        return _read({})

    def _read(settings: dict[str, Any]) -> dict[str, Any]:
        return settings["missing"]

    @registry.job("fine")
    def fine(_ctx: JobContext) -> dict[str, Any]:
        return {}

    return registry


def add_channel(store: SqlStore, name: str, **values: Any) -> UUID:
    values = {"kind": "webhook", "url": "https://example.com/hook", **values}
    values.setdefault("events", ["run.failed", "run.timed_out", "run.abandoned"])
    return store.insert_channel({"name": name, **values}).id


def received(store: SqlStore) -> dict[str, list[str]]:
    """{channel name: the events of its notifications, oldest first}."""
    names = {channel.id: channel.name for channel in store.list_channels()}
    result: dict[str, list[str]] = {}
    for notification in reversed(store.list_notifications(limit=1000)):
        result.setdefault(names[notification.channel_id], []).append(notification.event)
    return result


def run_once(store: SqlStore, registry: JobRegistry, clock: FakeClock) -> None:
    clock.advance(timedelta(minutes=5))
    Runner(store, registry, clock).run_due()


def test_a_final_failure_notifies_the_channels_of_its_tenant_and_the_global_ones_only(
    store: SqlStore, make_job: MakeJob, registry: JobRegistry, clock: FakeClock
) -> None:
    acme, other = store.insert_tenant("Acme"), store.insert_tenant("Other")
    job = make_job("boom", tenant_id=acme)
    unrelated = make_job("fine", tenant_id=acme, name="unrelated")
    add_channel(store, "acme", tenant_id=acme)
    add_channel(store, "global")
    add_channel(store, "other tenant", tenant_id=other)
    add_channel(store, "this job only", tenant_id=acme, job_ids=[job.id])
    add_channel(store, "another job only", tenant_id=acme, job_ids=[unrelated.id])
    add_channel(store, "successes only", events=["run.succeeded"])

    run_once(store, registry, clock)

    assert received(store) == {
        "acme": ["run.failed"],
        "global": ["run.failed"],
        "this job only": ["run.failed"],
        "successes only": ["run.succeeded"],
    }
    [failure] = [n for n in store.list_notifications() if n.event == "run.failed"][:1]
    assert failure.status is NotificationStatus.PENDING
    assert failure.next_attempt_at == clock.now()
    body = failure.payload
    assert body["event"] == "run.failed"
    assert body["job"] == {
        "id": str(job.id),
        "name": job.name,
        "tenant_id": str(acme),
        "function_name": "boom",
        "schedule": "every_5_minutes",
    }
    assert body["run"]["status"] == "failed"
    assert body["run"]["attempt"] == 1
    assert "KeyError" in body["run"]["error"]
    # The last lines of what the run logged and of its traceback, down to the helper that raised.
    assert body["run"]["log_tail"].endswith("reading the settings")
    assert "_read" in body["run"]["traceback_tail"]
    assert body["run"]["traceback_tail"].rstrip().endswith("KeyError: 'missing'")
    [success] = [n for n in store.list_notifications() if n.event == "run.succeeded"]
    assert "log_tail" not in success.payload["run"]
    assert body["run"]["scheduled_for"] == body["time"][:17] + "00Z"


def test_a_failure_that_will_be_retried_alerts_nobody_until_its_last_attempt(
    store: SqlStore, make_job: MakeJob, registry: JobRegistry, clock: FakeClock
) -> None:
    make_job("boom", max_attempts=2, retry_delay_seconds=10)
    add_channel(store, "ops")
    run_once(store, registry, clock)
    assert received(store) == {}

    clock.advance(timedelta(seconds=30))
    Runner(store, registry, clock).run_due()
    assert received(store) == {"ops": ["run.failed"]}
    [notification] = store.list_notifications()
    assert notification.payload["run"]["attempt"] == 2


def test_a_notification_is_leased_to_one_process_and_taken_over_when_its_lease_lapses(
    store: SqlStore, make_job: MakeJob, registry: JobRegistry, clock: FakeClock
) -> None:
    make_job("boom")
    channel_id = add_channel(store, "ops")
    run_once(store, registry, clock)

    [(first, channel)] = store.claim_notifications(clock.now(), "a", LEASE)
    assert channel.id == channel_id
    assert first.attempts == 1
    assert store.claim_notifications(clock.now(), "b", LEASE) == []

    clock.advance(LEASE + timedelta(seconds=1))  # "a" died mid-attempt
    [(second, _)] = store.claim_notifications(clock.now(), "b", LEASE)
    assert (second.id, second.attempts) == (first.id, 2)
    late = Attempt(status_code=200, error=None, duration_ms=5)
    delivered = NotificationStatus.DELIVERED
    assert store.finish_attempts("a", [Finished(first, clock.now(), late, delivered)]) == [False]

    ok = Attempt(status_code=204, error=None, duration_ms=7)
    assert store.finish_attempts("b", [Finished(second, clock.now(), ok, delivered)]) == [True]
    [notification] = store.list_notifications()
    assert (notification.status, notification.delivered_at) == ("delivered", clock.now())
    deliveries = sorted(store.list_deliveries(channel_id), key=lambda d: d.attempt)
    assert [(d.attempt, d.status_code) for d in deliveries] == [(1, None), (1, 200), (2, 204)]
    assert "stopped before it ended" in (deliveries[0].error or "")


def test_a_failed_attempt_waits_for_its_retry_time(
    store: SqlStore, make_job: MakeJob, registry: JobRegistry, clock: FakeClock
) -> None:
    make_job("boom")
    add_channel(store, "ops")
    run_once(store, registry, clock)
    [(notification, _)] = store.claim_notifications(clock.now(), "a", LEASE)
    retry_at = clock.now() + timedelta(seconds=40)
    failed = Attempt(status_code=500, error="HTTP 500", duration_ms=3)
    pending = Finished(notification, clock.now(), failed, NotificationStatus.PENDING, retry_at)
    store.finish_attempts("a", [pending])
    assert store.earliest_notification() == retry_at
    assert store.claim_notifications(retry_at - timedelta(seconds=1), "b", LEASE) == []
    [(again, _)] = store.claim_notifications(retry_at, "b", LEASE)
    assert (again.id, again.attempts, again.last_error) == (notification.id, 2, "HTTP 500")


def test_done_notifications_are_pruned_after_the_retention_and_pending_ones_kept(
    store: SqlStore, make_job: MakeJob, registry: JobRegistry, clock: FakeClock
) -> None:
    make_job("boom")
    add_channel(store, "ops")
    add_channel(store, "ops too")
    run_once(store, registry, clock)
    [(delivered, _), _other] = store.claim_notifications(clock.now(), "a", LEASE)
    ok = Attempt(status_code=200, error=None, duration_ms=1)
    store.finish_attempts("a", [Finished(delivered, clock.now(), ok, NotificationStatus.DELIVERED)])

    assert store.prune_notifications(clock.now()) == 0  # not older than the cut-off
    clock.advance(timedelta(days=8))
    assert store.prune_notifications(clock.now() - timedelta(days=7)) == 1
    assert [n.id for n in store.list_notifications()] == [_other[0].id]


def test_a_deleted_channel_takes_its_notifications_with_it(
    store: SqlStore, make_job: MakeJob, registry: JobRegistry, clock: FakeClock
) -> None:
    job: Job = make_job("boom")
    channel_id = add_channel(store, "ops", job_ids=[job.id])
    run_once(store, registry, clock)
    assert store.delete_channel(channel_id)
    assert store.list_notifications() == []
    assert store.claim_notifications(clock.now(), "a", LEASE) == []
