"""GET /metrics over HTTP: Prometheus's text format, gauges that agree with the database, the
server's own run counters, and who may read it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from cronbase.config import Settings
from cronbase.manager import JobManager
from cronbase.notify.events import test_event as channel_test_event
from cronbase.registry import JobRegistry
from cronbase.store import SqlStore
from cronbase.store.notification_tables import cron_notification
from cronbase.store.tables import cron_job, cron_job_run, cron_worker
from cronbase.store.workers import WorkerStore
from cronbase.testing import FakeClock
from tests.acceptance.cli import free_port
from tests.api.conftest import Callers, Tenants, serving
from tests.helpers import create_job

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(api: httpx.Client) -> Samples:
    """Every sample of /metrics, parsed by prometheus_client's own parser."""
    response = api.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def labelled(samples: Samples, name: str, label: str) -> dict[str, float]:
    """{label value: sample value} of one metric, e.g. cronbase_jobs by state."""
    return {
        dict(labels)[label]: value for (sample, labels), value in samples.items() if sample == name
    }


def create(api: httpx.Client, name: str, function: str, **extra: Any) -> str:
    body = {"name": name, "schedule": "every_5_minutes", "function_name": function, **extra}
    response = api.post("/api/cron/jobs", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["job"]["id"])


def database_counts(store: SqlStore, now: Any) -> dict[str, Any]:
    """What the database holds, counted here with SQL of the test's own."""
    with store.reading() as conn:
        by_state = sa.select(cron_job.c.is_active, sa.func.count()).group_by("is_active")
        jobs = {bool(active): count for active, count in conn.execute(by_state)}
        by_status = sa.select(cron_job_run.c.status, sa.func.count()).group_by("status")
        runs = {status: count for status, count in conn.execute(by_status)}  # noqa: C416
        in_flight = {
            job_id
            for (job_id,) in conn.execute(
                sa.select(cron_job_run.c.job_id).where(
                    cron_job_run.c.status.in_(("running", "pending"))
                )
            )
        }
        overdue = [
            job.id
            for job in conn.execute(sa.select(cron_job).where(cron_job.c.is_active))
            if job.id not in in_flight
            and job.next_run + timedelta(seconds=job.overdue_after_seconds) < now
        ]
        pending = conn.execute(
            sa.select(sa.func.count()).where(cron_notification.c.status == "pending")
        ).scalar_one()
        alive = conn.execute(
            sa.select(sa.func.count()).where(
                cron_worker.c.stopped_at.is_(None),
                cron_worker.c.last_heartbeat >= now - timedelta(minutes=2),
            )
        ).scalar_one()
    return {
        "jobs": {
            "active": jobs.get(True, 0),
            "paused": jobs.get(False, 0),
            "overdue": len(overdue),
            # as GET .../explain calls them: with a worker alive, overdue means none claimed it
            "overdue_no_worker": len(overdue) if not alive else 0,
            "overdue_workers_busy": len(overdue) if alive else 0,
        },
        "runs": runs,
        "alive": alive,
        "notifications": pending,
    }


def test_the_gauges_agree_with_the_database(
    callers: Callers, store: SqlStore, clock: FakeClock, tenants: Tenants
) -> None:
    api = callers.superadmin
    for name in ("ok 1", "ok 2"):
        create(api, name, "echo")
    create(api, "fails", "boom", tenant_id=str(tenants.a))
    create(api, "paused 1", "echo", is_active=False)
    paused = create(api, "paused 2", "echo", is_active=False, tenant_id=str(tenants.b))
    channel = store.insert_channel(
        {
            "name": "ops",
            "kind": "webhook",
            "url": "https://example.com/hook",
            "events": ["job.recovered"],  # none here: no alert for the server to deliver
        }
    )
    # One notification waiting, leased far ahead: the server's delivery loop leaves it pending.
    store.add_notification(
        channel.id,
        channel_test_event("ops", clock.now()),
        "elsewhere",
        clock.now() + timedelta(days=1),
    )
    clock.advance(timedelta(minutes=5))
    assert api.post("/api/cron/run").json()["data"]["summary"]["executed"] == 2
    assert api.post(f"/api/cron/jobs/{paused}/run").status_code == 202  # a pending manual run
    # Nothing ran this one for an hour: overdue, as its grace is 10 minutes.
    late = create(api, "late", "echo")
    with store.transaction() as conn:
        conn.execute(
            cron_job.update()
            .where(cron_job.c.id == UUID(late))
            .values(next_run=clock.now() - timedelta(hours=1))
        )
    workers = WorkerStore(store.engine)
    workers.register("alive", "host-a", 1, clock.now() - timedelta(seconds=3))
    workers.register("silent", "host-b", 2, clock.now() - timedelta(minutes=10))

    samples = scrape(api)

    expected = database_counts(store, clock.now())
    # The test made what it meant to, and /metrics says the same.
    assert expected["jobs"] == {
        "active": 4,
        "paused": 2,
        "overdue": 1,
        "overdue_no_worker": 0,
        "overdue_workers_busy": 1,
    }
    assert expected["runs"] == {"succeeded": 2, "failed": 1, "pending": 1}
    assert labelled(samples, "cronbase_jobs", "state") == expected["jobs"]
    assert samples[("cronbase_workers_alive", frozenset())] == expected["alive"] == 1
    pending = samples[("cronbase_notifications_pending", frozenset())]
    assert pending == expected["notifications"] == 1
    recorded = labelled(samples, "cronbase_runs_recorded_total", "status")
    going = labelled(samples, "cronbase_runs_in_progress", "status")
    assert {status: n for status, n in recorded.items() if n} == {"succeeded": 2, "failed": 1}
    assert set(recorded) == {"succeeded", "failed", "timed_out", "abandoned", "missed", "skipped"}
    assert going == {"pending": 1, "running": 0}


def test_the_server_counts_the_runs_it_ran(callers: Callers, clock: FakeClock) -> None:
    """`cronbase serve` runs jobs too (its worker, POST /api/cron/run): its own counters."""
    api = callers.superadmin
    create(api, "ok", "echo")
    create(api, "fails", "boom")
    before = scrape(api)
    assert labelled(before, "cronbase_runs_total", "status") == {}

    for _ in range(3):
        clock.advance(timedelta(minutes=5))
        api.post("/api/cron/run")

    runs = {
        (labels["function"], labels["status"], labels["trigger"]): value
        for (name, label_set), value in scrape(api).items()
        if name == "cronbase_runs_total"
        for labels in [dict(label_set)]
    }
    assert runs == {("echo", "succeeded", "schedule"): 3, ("boom", "failed", "schedule"): 3}


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 401), ("bad_token", 401), ("admin_a", 403), ("jwt_admin_a", 403), ("user", 403)],
)
def test_metrics_need_a_superadmin(callers: Callers, who: str, status: int) -> None:
    response = getattr(callers, who).get("/metrics")
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "error"
    assert "cronbase_" not in response.text
    if status == 403:
        assert "CRONBASE_METRICS_PUBLIC" in body["message"]


@pytest.fixture
def public_url(store: SqlStore, clock: FakeClock, registry: JobRegistry) -> Iterator[str]:
    with serving(store, clock, registry, metrics_public=True) as url:
        yield url


def test_public_metrics_need_no_token(
    public_url: str, store: SqlStore, registry: JobRegistry, clock: FakeClock
) -> None:
    create_job(JobManager(store, registry, clock), "echo")
    with httpx.Client(base_url=public_url) as anonymous:
        samples = scrape(anonymous)
        assert labelled(samples, "cronbase_jobs", "state") == {
            "active": 1,
            "paused": 0,
            "overdue": 0,
            "overdue_no_worker": 0,
            "overdue_workers_busy": 0,
        }
        # The rest of the API still needs a token.
        assert anonymous.get("/api/cron/jobs").status_code == 401


def test_the_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().metrics_public is False
    monkeypatch.setenv("CRONBASE_METRICS_PUBLIC", "1")
    assert Settings().metrics_public is True


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////nonexistent-directory/cronbase.db",
        f"postgresql://postgres@127.0.0.1:{free_port()}/x",
    ],
)
def test_an_unreachable_database_is_a_503_that_says_so(
    url: str, clock: FakeClock, registry: JobRegistry
) -> None:
    store = SqlStore.from_url(url)
    with serving(store, clock, registry, metrics_public=True) as base, httpx.Client() as client:
        response = client.get(f"{base}/metrics")
    store.close()
    assert response.status_code == 503, response.text
    assert "is unreachable: OperationalError" in response.json()["message"]
