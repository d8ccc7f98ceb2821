"""GET /metrics: the deployment's gauges, read from the database when Prometheus scrapes, and
this process's own counters (its embedded worker's runs, its notification failures).

The gauges describe the whole database, so every API process answers the same and one scrape
target is enough; the process's counters are summed by Prometheus across targets.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from fastapi import APIRouter, Request, Response
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from cronbase.api.deps import MetricsReader, ServicesDep
from cronbase.api.errors import error_response
from cronbase.bootstrap import Services
from cronbase.manager import JobManager

logger = logging.getLogger(__name__)

router = APIRouter(tags=["metrics"])


class DatabaseCollector(Collector):
    """The gauges of the database, through the domain layer, at each scrape. Labels are
    bounded: job states and run statuses, never a job's id."""

    def __init__(self, manager: JobManager) -> None:
        self.manager = manager

    def describe(self) -> list[Metric]:
        return []  # no scrape when the collector is registered: the database may be down

    def collect(self) -> Iterator[Metric]:
        counts = self.manager.counts()
        jobs = GaugeMetricFamily(
            "cronbase_jobs",
            "Jobs by state: active, paused, and overdue (active jobs whose next run has not "
            "started within their overdue_after_seconds), the overdue ones again as "
            "overdue_no_worker or overdue_workers_busy (the states of GET .../explain)",
            labels=["state"],
        )
        for state, count in counts.jobs.items():
            jobs.add_metric([state], count)
        yield jobs
        yield GaugeMetricFamily(
            "cronbase_workers_alive",
            "Workers that heartbeated in the last two minutes and have not stopped",
            value=counts.workers_alive,
        )
        yield GaugeMetricFamily(
            "cronbase_notifications_pending",
            "Notifications waiting to be delivered (first attempts and retries)",
            value=counts.notifications_pending,
        )
        # A true counter: read from the tally the database keeps as runs are recorded, which
        # pruning the history or deleting a job never lowers (rate() would read a reset).
        runs = CounterMetricFamily(
            "cronbase_runs_recorded",
            "Runs recorded in the database since it was created, by the status they ended in",
            labels=["status"],
        )
        for status, count in counts.runs.items():
            runs.add_metric([status.value], count)
        yield runs
        going = GaugeMetricFamily(
            "cronbase_runs_in_progress",
            "Runs not ended now: pending (waiting to start) and running",
            labels=["status"],
        )
        for status, count in counts.in_progress.items():
            going.add_metric([status.value], count)
        yield going


def metrics_registry(services: Services) -> CollectorRegistry:
    """What /metrics serves: the database's gauges and this process's counters."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(services.manager))
    registry.register(services.metrics.registry)
    return registry


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}, "description": "The Prometheus text format"},
        503: {"description": "The database is unreachable"},
    },
    dependencies=[MetricsReader],
)
def metrics(request: Request, services: ServicesDep) -> Response:
    """Jobs by state, live workers and run rows by status, read from the database now, with
    this process's run counters. Needs a superadmin token unless CRONBASE_METRICS_PUBLIC=1."""
    registry: CollectorRegistry = request.app.state.metrics_registry
    encoder, content_type = choose_encoder(request.headers.get("accept", ""))
    try:
        body = encoder(registry)
    except Exception as exc:  # any database failure: no gauges to give (logged)
        logger.exception("GET /metrics could not read the database")
        where = services.database_location()
        return error_response(503, f"the database {where} is unreachable: {type(exc).__name__}")
    return Response(body, media_type=content_type)
