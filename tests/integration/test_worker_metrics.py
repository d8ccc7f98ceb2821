"""A worker's own Prometheus counters, scraped over HTTP, against the runs it recorded."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from cronbase.manager import SYSTEM, JobManager
from cronbase.metrics import UNREGISTERED, ProcessMetrics
from cronbase.registry import JobContext, JobRegistry
from cronbase.runner import Runner
from cronbase.runner.planning import plan_slots
from cronbase.store import SqlStore
from cronbase.store.tables import cron_job, cron_job_run
from cronbase.testing import FakeClock
from tests.helpers import MakeJob

ENDED = ("succeeded", "failed", "timed_out", "abandoned")


@pytest.fixture
def registry() -> JobRegistry:
    registry = JobRegistry()

    @registry.job("ok")
    def ok(_ctx: JobContext) -> dict[str, Any]:
        return {}

    @registry.job("boom")
    def boom(_ctx: JobContext) -> dict[str, Any]:
        raise RuntimeError("boom")

    return registry


@pytest.fixture
def metrics() -> ProcessMetrics:
    return ProcessMetrics()


@pytest.fixture
def metrics_url(metrics: ProcessMetrics) -> Iterator[str]:
    """The metrics served as `cronbase worker --metrics-port` serves them, on a free port."""
    server = metrics.serve("127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.server_port}/metrics"
    server.shutdown()
    server.server_close()


def scrape(url: str) -> dict[str, Counter[tuple[tuple[str, str], ...]]]:
    """{sample name: {sorted labels: value}}, parsed by prometheus_client's parser."""
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200, response.text
    samples: dict[str, Counter[tuple[tuple[str, str], ...]]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = tuple(sorted(sample.labels.items()))
            samples.setdefault(sample.name, Counter())[labels] = sample.value
    return samples


def ended_runs(store: SqlStore) -> list[sa.Row[Any]]:
    """Every ended run row with its job's function, counted by the test's own SQL."""
    query = (
        sa.select(cron_job_run, cron_job.c.function_name)
        .join(cron_job, cron_job.c.id == cron_job_run.c.job_id)
        .where(cron_job_run.c.status.in_(ENDED))
    )
    with store.reading() as conn:
        return list(conn.execute(query))


def test_a_workers_counters_agree_with_the_runs_it_recorded(
    store: SqlStore,
    manager: JobManager,
    make_job: MakeJob,
    registry: JobRegistry,
    clock: FakeClock,
    metrics: ProcessMetrics,
    metrics_url: str,
) -> None:
    ok = make_job("ok")
    make_job("boom")
    store.insert_job(  # a function no worker knows: its runs fail, under a bounded label
        {"name": "gone", "schedule": "every_5_minutes", "function_name": "gone"}
        | {"next_run": clock.now() + timedelta(minutes=5)}
    )
    runner = Runner(store, registry, clock, worker_id="w1", metrics=metrics)
    for _ in range(3):
        clock.advance(timedelta(minutes=5))
        runner.run_due()
    manager.run_now(ok.id, SYSTEM)
    runner.run_due()
    # A run whose worker died (it never renews its lease): w1 records it abandoned.
    clock.advance(timedelta(minutes=5))
    store.claim_due(clock.now(), "dead", plan_slots, 1, timedelta(seconds=60))
    clock.advance(timedelta(seconds=61))
    runner.run_due()

    runs = ended_runs(store)
    samples = scrape(metrics_url)

    recorded = Counter(
        (
            ("function", run.function_name if run.function_name in registry else UNREGISTERED),
            ("status", run.status),
            ("trigger", run.trigger),
        )
        for run in runs
    )
    assert samples["cronbase_runs_total"] == recorded
    assert recorded[(("function", "ok"), ("status", "succeeded"), ("trigger", "manual"))] == 1
    assert recorded[(("function", "boom"), ("status", "failed"), ("trigger", "schedule"))] >= 3
    assert recorded[(("function", UNREGISTERED), ("status", "failed"), ("trigger", "schedule"))]
    assert sum(1 for run in runs if run.status == "abandoned") == 1
    # Durations and start lags: only of the runs w1 ran itself, not the dead worker's.
    ran_here = [run for run in runs if run.worker_id == "w1"]
    durations = Counter(
        (("function", run.function_name if run.function_name in registry else UNREGISTERED),)
        for run in ran_here
    )
    assert samples["cronbase_run_duration_seconds_count"] == durations
    assert samples["cronbase_start_lag_seconds_count"][()] == len(ran_here)
    # As the history shows it: the jobs due with the dead worker's started 61 s late.
    lags = [(run.started_at - run.scheduled_for).total_seconds() for run in ran_here]
    assert samples["cronbase_start_lag_seconds_sum"][()] == sum(lags) == 122


def test_failed_notification_deliveries_are_counted_by_kind(
    metrics: ProcessMetrics, metrics_url: str
) -> None:
    assert "cronbase_notification_failures_total" not in scrape(metrics_url)
    for kind in ("webhook", "webhook", "email"):
        metrics.notification_failed(kind)
    failures = scrape(metrics_url)["cronbase_notification_failures_total"]
    assert failures == {(("kind", "webhook"),): 2, (("kind", "email"),): 1}


def test_two_workers_in_one_process_count_apart(
    store: SqlStore, make_job: MakeJob, registry: JobRegistry, clock: FakeClock
) -> None:
    make_job("ok")
    first, second = ProcessMetrics(), ProcessMetrics()
    clock.advance(timedelta(minutes=5))
    Runner(store, registry, clock, metrics=first).run_due()
    Runner(store, registry, clock, metrics=second).run_due()  # nothing left due
    counted = [
        sum(s.value for m in metrics.registry.collect() for s in m.samples if s.name == name)
        for metrics in (first, second)
        for name in ["cronbase_runs_total"]
    ]
    assert counted == [1, 0]
