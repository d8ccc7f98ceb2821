"""ProcessMetrics's histograms follow Prometheus's rules: a value lands in the first bucket
whose bound is at least the value (`le`), and buckets are cumulative, ending at +Inf."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from cronbase.jobs import Claim, Outcome, RunStatus
from cronbase.metrics import START_LAG_BUCKETS, ProcessMetrics
from tests.unit.job_factory import NOW, make_job


def lag_buckets(metrics: ProcessMetrics) -> dict[str, float]:
    [family] = [f for f in metrics.registry.collect() if f.name == "cronbase_start_lag_seconds"]
    return {s.labels["le"]: s.value for s in family.samples if s.name.endswith("_bucket")}


def started_late(seconds: float, attempt: int = 1) -> Outcome:
    claim = Claim(uuid4(), make_job(), NOW, None, attempt=attempt)
    started = NOW + timedelta(seconds=seconds)
    return Outcome(claim, RunStatus.SUCCEEDED, started, started)


def test_a_value_on_a_bound_counts_in_that_bucket_and_buckets_add_up() -> None:
    metrics = ProcessMetrics()
    for seconds in (0.01, 0.010001, 1, 100_000):
        metrics.run_recorded(started_late(seconds), {"noop"})
    metrics.run_recorded(started_late(0.0, attempt=2), {"noop"})  # a retry: no lag counted

    buckets = lag_buckets(metrics)

    assert len(buckets) == len(START_LAG_BUCKETS) + 1
    assert buckets["0.01"] == 1
    assert buckets["0.05"] == 2
    assert buckets["1.0"] == 3
    assert buckets["900.0"] == 3
    assert buckets["+Inf"] == 4
