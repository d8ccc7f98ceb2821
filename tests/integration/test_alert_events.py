"""The alerts beyond a run's own ending, on both databases: run.missed, job.overdue (once per
episode, whichever process checks), job.recovered (after any alert), and flood control,
muting and maintenance windows deciding what reaches a channel."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from cronbase.manager import SYSTEM, JobManager
from cronbase.registry import JobContext, JobRegistry
from cronbase.runner import Runner
from cronbase.store import SqlStore
from cronbase.testing import FakeClock
from tests.helpers import MakeJob

ALL = ["run.failed", "run.timed_out", "run.abandoned", "run.missed", "job.overdue", "job.recovered"]


@pytest.fixture
def registry() -> JobRegistry:
    registry = JobRegistry()

    @registry.job("flaky")
    def flaky(ctx: JobContext) -> dict[str, Any]:
        if ctx.metadata.get("fail"):
            raise KeyError("missing")
        return {}

    return registry


def add_channel(store: SqlStore, name: str = "ops", **values: Any) -> UUID:
    values = {"kind": "webhook", "url": "https://example.com/hook", "events": ALL, **values}
    return store.insert_channel({"name": name, **values}).id


def sent(store: SqlStore) -> list[tuple[str, Any]]:
    """(event, folded) of every notification written, oldest first."""
    return [
        (n.event, n.payload.get("folded"))
        for n in sorted(store.list_notifications(limit=1000), key=lambda n: n.created_at)
    ]


def events(store: SqlStore) -> list[str]:
    return [event for event, _ in sent(store)]


def run_at(store: SqlStore, registry: JobRegistry, clock: FakeClock, delta: timedelta) -> None:
    clock.advance(delta)
    Runner(store, registry, clock).run_due()


def test_missed_slots_raise_run_missed_once_and_the_next_success_job_recovered(
    store: SqlStore, registry: JobRegistry, clock: FakeClock, make_job: MakeJob
) -> None:
    add_channel(store)
    job = make_job("flaky", schedule="every_1_minutes")
    run_at(store, registry, clock, timedelta(minutes=4))  # three slots passed, the last runs
    assert sorted(events(store)) == ["job.recovered", "run.missed"]  # at the same instant
    [missed, recovered] = sorted(store.list_notifications(), key=lambda n: n.event, reverse=True)
    assert missed.payload["missed"]["count"] == 3
    assert missed.payload["job"]["id"] == str(job.id)
    assert recovered.payload["run"]["status"] == "succeeded"
    assert store.get_job(job.id).alerting_since is None


def test_job_overdue_is_raised_once_per_episode_and_recovered_after_a_run(
    store: SqlStore, registry: JobRegistry, clock: FakeClock, make_job: MakeJob
) -> None:
    add_channel(store)
    job = make_job("flaky", schedule="hourly")
    assert job.next_run is not None
    clock.set(job.next_run + timedelta(minutes=11))
    raised = store.raise_overdue(clock.now())
    assert [event.job_id for event in raised] == [job.id]
    assert raised[0].payload["overdue"] == {
        "next_run": job.next_run.isoformat().replace("+00:00", "Z"),
        "overdue_after_seconds": 600,
        "late_seconds": 660,
    }
    clock.advance(timedelta(minutes=5))
    assert store.raise_overdue(clock.now()) == []  # the same episode: nothing more
    assert store.get_job(job.id).alerting_since is not None
    assert events(store) == ["job.overdue"]
    run_at(store, registry, clock, timedelta(0))  # a worker comes back: the late slot runs
    run_at(store, registry, clock, timedelta(hours=1))
    assert events(store) == ["job.overdue", "job.recovered"]
    assert store.get_job(job.id).alerting_since is None


def test_a_failure_then_a_success_recovers_once(
    store: SqlStore,
    registry: JobRegistry,
    clock: FakeClock,
    make_job: MakeJob,
    manager: JobManager,
) -> None:
    add_channel(store)
    job = make_job("flaky", metadata={"fail": True})
    run_at(store, registry, clock, timedelta(minutes=5))
    manager.update_job(job.id, {"metadata": {}}, SYSTEM)
    run_at(store, registry, clock, timedelta(minutes=5))
    run_at(store, registry, clock, timedelta(minutes=5))  # still fine: no second recovery
    assert events(store) == ["run.failed", "job.recovered"]


def test_repeats_within_the_quiet_period_are_folded_into_the_next_alert(
    store: SqlStore, registry: JobRegistry, clock: FakeClock, make_job: MakeJob
) -> None:
    add_channel(store)
    make_job("flaky", schedule="every_1_minutes", metadata={"fail": True})
    for _ in range(61):  # fails every minute for an hour
        run_at(store, registry, clock, timedelta(minutes=1))
    first_folded = clock.now() - timedelta(minutes=59)
    assert sent(store) == [
        ("run.failed", None),
        ("run.failed", {"count": 59, "since": first_folded.isoformat().replace("+00:00", "Z")}),
    ]


def test_a_muted_channel_or_job_and_a_maintenance_window_suppress_alerts(
    store: SqlStore,
    registry: JobRegistry,
    clock: FakeClock,
    make_job: MakeJob,
) -> None:
    muted_channel = add_channel(store, "muted", muted_until=clock.now() + timedelta(minutes=30))
    add_channel(store, "open")
    quiet_job = make_job(
        "flaky",
        name="muted job",
        metadata={"fail": True},
        muted_until=clock.now() + timedelta(minutes=30),
    )
    make_job("flaky", name="loud job", metadata={"fail": True})
    run_at(store, registry, clock, timedelta(minutes=5))
    got = {
        (store.get_channel(n.channel_id).name, n.payload["job"]["name"])
        for n in store.list_notifications()
    }
    assert got == {("open", "loud job")}
    assert store.get_job(quiet_job.id).muted_until is not None

    store.insert_window(
        {
            "tenant_id": None,
            "starts_at": clock.now(),
            "ends_at": clock.now() + timedelta(hours=2),
            "job_ids": None,
            "reason": "database upgrade",
        }
    )
    run_at(store, registry, clock, timedelta(hours=1, minutes=5))  # muting over, window on
    assert len(store.list_notifications()) == 1
    run_at(store, registry, clock, timedelta(hours=1))  # the window is over
    assert {store.get_channel(n.channel_id).name for n in store.list_notifications()} == {
        "open",
        "muted",
    }
    assert muted_channel  # (its mute has passed)


def test_a_tenants_maintenance_window_covers_that_tenants_jobs_only(
    store: SqlStore, registry: JobRegistry, clock: FakeClock, make_job: MakeJob
) -> None:
    acme, other = store.insert_tenant("Acme"), store.insert_tenant("Other")
    add_channel(store)
    make_job("flaky", name="acme job", tenant_id=acme, metadata={"fail": True})
    make_job("flaky", name="other job", tenant_id=other, metadata={"fail": True})
    store.insert_window(
        {
            "tenant_id": acme,
            "starts_at": clock.now(),
            "ends_at": clock.now() + timedelta(hours=1),
            "job_ids": None,
            "reason": "",
        }
    )
    run_at(store, registry, clock, timedelta(minutes=5))
    assert [n.payload["job"]["name"] for n in store.list_notifications()] == ["other job"]
