"""An API server without a worker looks for overdue jobs itself: job.overdue is raised with no
worker alive, once per episode."""

from __future__ import annotations

from datetime import timedelta

from cronbase.api import create_app
from cronbase.config import Settings
from cronbase.registry import JobRegistry
from cronbase.store import SqlStore
from cronbase.testing import FakeClock
from tests.api.conftest import LiveServer
from tests.helpers import MakeJob, wait_until


def test_an_api_server_without_a_worker_raises_job_overdue(
    store: SqlStore, clock: FakeClock, registry: JobRegistry, make_job: MakeJob
) -> None:
    store.insert_channel(
        {
            "name": "ops",
            "kind": "webhook",
            "url": "https://example.com/hook",
            "events": ["job.overdue"],
        }
    )
    job = make_job("echo", name="Quiet job")
    assert job.next_run is not None
    clock.set(job.next_run + timedelta(minutes=11))
    settings = Settings(database_url=str(store.engine.url))
    app = create_app(settings, store=store, clock=clock, registry=registry)  # no worker

    def overdue() -> list[str]:
        return [n.event for n in store.list_notifications()]

    with LiveServer(app, settings):
        wait_until(lambda: overdue(), what="job.overdue from the API server", timeout=20)
    assert overdue() == ["job.overdue"]
    [notification] = store.list_notifications()
    assert notification.payload["job"]["name"] == "Quiet job"
    assert store.get_job(job.id).alerting_since == clock.now()
    assert store.raise_overdue(clock.now()) == []  # the episode was raised: never again
