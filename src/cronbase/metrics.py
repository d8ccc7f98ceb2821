"""A cronbase process's own Prometheus counters and histograms: the runs it recorded and the
notifications it failed to deliver.

Each process counts only what it did itself, and Prometheus sums the processes. The counts live
in a registry of their own (not prometheus_client's global one), so that several workers, or
several tests, can count side by side in one process. The gauges read from the database are
the API's (api/metrics.py).
"""

from __future__ import annotations

from collections.abc import Container
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

from cronbase.jobs import Outcome

# Cron jobs run from milliseconds to hours; the client's default buckets stop at 10 s.
RUN_DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600, 4 * 3600)
START_LAG_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900)

# The `function` label of a run whose job names a function this process does not know: a name
# typed into the table by hand must not make a new time series per typo.
UNREGISTERED = "(unregistered)"


class ProcessMetrics:
    """The counters and histograms of one cronbase process, in `registry`.

    Cheap on the hot path: a run costs a few dictionary lookups and additions (the labelled
    children are cached), no I/O and no lock but prometheus_client's own.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.runs = Counter(
            "cronbase_runs",
            "Runs this process recorded as ended, by job function, status and trigger",
            ["function", "status", "trigger"],
            registry=self.registry,
        )
        self.run_duration = Histogram(
            "cronbase_run_duration_seconds",
            "How long the runs this process executed took, from start to end, by job function",
            ["function"],
            buckets=RUN_DURATION_BUCKETS,
            registry=self.registry,
        )
        self.start_lag = Histogram(
            "cronbase_start_lag_seconds",
            "How late this process started first attempts, after their scheduled time",
            buckets=START_LAG_BUCKETS,
            registry=self.registry,
        )
        self.notification_failures = Counter(
            "cronbase_notification_failures",
            "Failed notification delivery attempts of this process, by channel kind",
            ["kind"],
            registry=self.registry,
        )
        self._run_counters: dict[tuple[str, str, str], Counter] = {}
        self._durations: dict[str, Histogram] = {}

    def run_recorded(self, outcome: Outcome, functions: Container[str]) -> None:
        """Count a run this process recorded; `functions` are the registered function names.

        Its duration and start lag are observed only if this process ran it: a run recorded
        abandoned for a dead worker (`lapsed`) tells nothing about how long runs take here.
        Retries are left out of the start lag: they wait for their retry delay on purpose.
        """
        claim = outcome.claim
        name = claim.job.function_name
        function = name if name in functions else UNREGISTERED
        key = (function, outcome.status.value, claim.trigger.value)
        counter = self._run_counters.get(key)
        if counter is None:
            counter = self._run_counters[key] = self.runs.labels(*key)
        counter.inc()
        if outcome.lapsed:
            return
        duration = self._durations.get(function)
        if duration is None:
            duration = self._durations[function] = self.run_duration.labels(function)
        duration.observe((outcome.finished_at - outcome.started_at).total_seconds())
        if claim.attempt == 1:
            self.start_lag.observe(max((outcome.started_at - claim.slot).total_seconds(), 0.0))

    def notification_failed(self, kind: str) -> None:
        """Count a failed delivery attempt to a channel of `kind` (webhook, slack, email): the
        notification code calls this once per attempt that did not succeed."""
        self.notification_failures.labels(kind).inc()

    def serve(self, host: str, port: int) -> WSGIServer:
        """Serve the metrics over HTTP on host:port (0: any free port) from a daemon thread;
        OSError if the address cannot be bound. `server_port` is the port it got; `shutdown()`
        stops it."""
        server, _thread = start_http_server(port, addr=host, registry=self.registry)
        return server
