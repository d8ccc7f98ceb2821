"""A cronbase process's own Prometheus counters and histograms: the runs it recorded and the
notifications it failed to deliver.

Each process counts only what it did itself, and Prometheus sums the processes. The counts live
in a registry of their own (not prometheus_client's global one), so that several workers, or
several tests, can count side by side in one process. The gauges read from the database are
the API's (api/metrics.py).

The counts are plain integers behind one lock, turned into Prometheus's families only when
scraped: prometheus_client's own Counter and Histogram take a lock per sample touched (five
for one run, with the bucket), which cost a busy worker several per cent of its time per run.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Container, Iterator
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from cronbase.jobs import Outcome, job_offset, start_lag

# Cron jobs run from milliseconds to hours; the client's default buckets stop at 10 s.
RUN_DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600, 4 * 3600)
START_LAG_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900)

# The `function` label of a run whose job names a function this process does not know: a name
# typed into the table by hand must not make a new time series per typo.
UNREGISTERED = "(unregistered)"

RunKey = tuple[str, str, str]  # function, status, trigger


class _Histogram:
    """Counts per bucket (the last one past every bound: +Inf) and the sum of the values."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1  # the first bound >= value: le
        self.sum += value

    def add_to(self, family: HistogramMetricFamily, labels: list[str]) -> None:
        cumulative, buckets = 0, []
        for bound, count in zip((*self.bounds, float("inf")), self.counts, strict=True):
            cumulative += count
            buckets.append((floatToGoString(bound), cumulative))
        family.add_metric(labels, buckets, sum_value=self.sum)


class ProcessMetrics(Collector):
    """The counters and histograms of one cronbase process, served from `registry`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # the runners of one process may record at once
        self._runs: dict[RunKey, int] = {}
        self._durations: dict[str, _Histogram] = {}
        self._start_lag = _Histogram(START_LAG_BUCKETS)
        self._notification_failures: dict[str, int] = {}
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)

    def run_recorded(self, outcome: Outcome, functions: Container[str]) -> None:
        """Count a run this process recorded; `functions` are the registered function names.

        Its duration and start lag are observed only if this process ran it: a run recorded
        abandoned for a dead worker (`lapsed`) tells nothing about how long runs take here.
        Retries are left out of the start lag: they wait for their retry delay on purpose.
        """
        self.runs_recorded([outcome], functions)

    def runs_recorded(self, outcomes: list[Outcome], functions: Container[str]) -> None:
        """Count the runs of one recorded batch as run_recorded does, under one lock."""
        with self._lock:
            for outcome in outcomes:
                self._count(outcome, functions)

    def _count(self, outcome: Outcome, functions: Container[str]) -> None:
        claim = outcome.claim
        name = claim.job.function_name
        function = name if name in functions else UNREGISTERED
        key = (function, outcome.status.value, claim.trigger.value)
        self._runs[key] = self._runs.get(key, 0) + 1
        if outcome.lapsed:
            return
        duration = self._durations.get(function)
        if duration is None:
            duration = self._durations[function] = _Histogram(RUN_DURATION_BUCKETS)
        duration.observe((outcome.finished_at - outcome.started_at).total_seconds())
        if claim.attempt == 1:
            offset = job_offset(claim.job)
            lag = start_lag(claim.slot, outcome.started_at, claim.trigger, offset)
            self._start_lag.observe(max(lag.total_seconds(), 0.0))

    def notification_failed(self, kind: str) -> None:
        """Count a failed delivery attempt to a channel of `kind` (webhook, slack, email): the
        notification code calls this once per attempt that did not succeed."""
        with self._lock:
            self._notification_failures[kind] = self._notification_failures.get(kind, 0) + 1

    def collect(self) -> Iterator[Metric]:
        """The families, as a scrape sees them (prometheus_client calls this)."""
        runs = CounterMetricFamily(
            "cronbase_runs",
            "Runs this process recorded as ended, by job function, status and trigger",
            labels=["function", "status", "trigger"],
        )
        durations = HistogramMetricFamily(
            "cronbase_run_duration_seconds",
            "How long the runs this process executed took, from start to end, by job function",
            labels=["function"],
        )
        lag = HistogramMetricFamily(
            "cronbase_start_lag_seconds",
            "How late this process started first attempts, after their scheduled time",
            labels=[],
        )
        failures = CounterMetricFamily(
            "cronbase_notification_failures",
            "Failed notification delivery attempts of this process, by channel kind",
            labels=["kind"],
        )
        with self._lock:
            for key, count in self._runs.items():
                runs.add_metric(list(key), count)
            for function, histogram in self._durations.items():
                histogram.add_to(durations, [function])
            self._start_lag.add_to(lag, [])
            for kind, count in self._notification_failures.items():
                failures.add_metric([kind], count)
        yield from (runs, durations, lag, failures)

    def serve(self, host: str, port: int) -> WSGIServer:
        """Serve the metrics over HTTP on host:port (0: any free port) from a daemon thread;
        OSError if the address cannot be bound. `server_port` is the port it got; `shutdown()`
        stops it."""
        server, _thread = start_http_server(port, addr=host, registry=self.registry)
        return server
