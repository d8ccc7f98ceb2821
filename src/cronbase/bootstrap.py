"""Wiring, written once: settings in; store, registry, manager, runners and worker out.

The CLI and the API (create_app) both build their parts here, and nothing else opens the store.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta

from cronbase import retention
from cronbase.clock import Clock, SystemClock
from cronbase.config import Settings
from cronbase.job_modules import load_job_modules
from cronbase.limits import JobLimits
from cronbase.manager import JobManager
from cronbase.metrics import ProcessMetrics
from cronbase.notify.deliverer import Deliverer, DeliveryLoop
from cronbase.notify.manager import ChannelManager
from cronbase.notify.overdue_check import OverdueCheck
from cronbase.notify.sealing import box_for
from cronbase.notify.senders import senders
from cronbase.registry import JobRegistry
from cronbase.runner import Runner, Worker
from cronbase.runner.pruning import Pruner
from cronbase.runner.runner import default_worker_id
from cronbase.runner.search_refresh import SearchRefresher
from cronbase.runner.tally import RunTally
from cronbase.store import SqlStore
from cronbase.store.engine import database_location, sqlite_file
from cronbase.store.migrate import check_schema, current_revision, upgrade
from cronbase.store.wakeups import TOKENS_CHANNEL, Listener
from cronbase.token_cache import TokenCache


@dataclass(frozen=True)
class Services:
    """The parts of a running cronbase, made from one Settings."""

    settings: Settings
    store: SqlStore
    registry: JobRegistry
    clock: Clock
    manager: JobManager
    deliverer: Deliverer  # sends notifications; shared by the delivery loop and the API's tests
    # This process's counters: every runner made here counts into them, and the notification
    # code counts its failed deliveries with metrics.notification_failed(kind).
    metrics: ProcessMetrics = field(default_factory=ProcessMetrics)

    def new_runner(self) -> Runner:
        """A runner of due jobs. One per thread: a Runner drives one control loop."""
        return Runner(
            self.store,
            self.registry,
            self.clock,
            concurrency=self.settings.worker_concurrency,
            max_running_per_tenant=self.settings.max_running_per_tenant,
            lease=timedelta(seconds=self.settings.worker_lease_seconds),
            metrics=self.metrics,
            tally=(
                RunTally(self.settings.run_log_interval_seconds, now=self.clock.monotonic())
                if self.settings.run_log == "summary"
                else None
            ),
        )

    def new_worker(self) -> Worker:
        """A worker with a runner of its own, running jobs as they fall due until stopped,
        pruning the run history as CRONBASE_RUN_RETENTION_DAYS (or the database) says, and
        delivering notifications meanwhile."""
        runner = self.new_runner()
        pruner = Pruner(
            self.store,
            self.clock,
            runner.worker_id,
            retention_days=self.settings.run_retention_days,
        )
        return Worker(
            runner,
            self.clock,
            max_sleep=self.settings.worker_max_sleep_seconds,
            grace=self.settings.shutdown_grace_seconds,
            pruner=pruner,
            refresher=self.new_search_refresher(runner.worker_id),
            overdue=self.new_overdue_check(),
            deliveries=self.new_delivery_loop(),
            listener=self.new_listener(),
        )

    def new_listener(self) -> Listener | None:
        """What wakes an idle worker at once when work is added: LISTEN on PostgreSQL, unless
        behind PgBouncer in transaction mode (CRONBASE_PGBOUNCER); else it polls only."""
        if self.store.dialect != "postgresql" or self.settings.pgbouncer:
            return None
        return Listener(self.store.engine, threading.Event())

    def new_revocation_listener(self) -> Listener | None:
        """What lets an API server remember tokens without missing a revocation: LISTEN for
        them on PostgreSQL (cronbase.token_cache). None where it cannot listen, and then the
        server reads a token's row on every request."""
        cache = self.manager.token_cache
        if (
            self.store.dialect != "postgresql"
            or self.settings.pgbouncer
            or cache.ttl <= timedelta(0)
        ):
            return None
        listener = Listener(
            self.store.engine,
            threading.Event(),
            channel=TOKENS_CHANNEL,
            meanwhile="API tokens are read on every request meanwhile",
        )
        listener.on_wake = cache.clear  # each revocation heard, and each (re)connection
        cache.live = listener.connected  # remembered only while revocations can be heard
        return listener

    def new_search_refresher(self, holder: str) -> SearchRefresher:
        """What keeps the jobs list's copy of last runs up to date (store/search.py): every
        worker has one, and `cronbase run-due` makes one pass before it exits."""
        return SearchRefresher(
            self.store, self.clock, holder, every=self.settings.search_refresh_seconds
        )

    def new_overdue_check(self) -> OverdueCheck:
        """The look for overdue jobs every worker and worker-less API server makes."""
        return OverdueCheck(self.store, self.clock, every=self.settings.overdue_check_seconds)

    def new_delivery_loop(self) -> DeliveryLoop:
        """A thread that delivers due notifications until closed (every cronbase process
        that stays up runs one: a worker, the API server)."""
        return DeliveryLoop(self.deliverer)

    def check_schema(self) -> None:
        """SchemaOutOfDate unless the database's schema is the one this cronbase needs."""
        check_schema(self.store.engine)

    def database_location(self) -> str:
        """Where the database is, for messages: a file's path or the URL without its password."""
        return database_location(self.store.engine.url)

    def migrate(self) -> tuple[str | None, str]:
        """Bring the database to the newest schema; return the revisions before and after."""
        return upgrade(self.store.engine)

    def run_retention(self) -> str:
        """What happens to the run history, in words (see cronbase.retention)."""
        stored = self.store.stored_setting(retention.SETTING)
        return retention.describe(self.settings.run_retention_days, stored)

    def schema_revision(self) -> str | None:
        """The database's schema revision, after checking it is current (SchemaOutOfDate)."""
        check_schema(self.store.engine)
        return current_revision(self.store.engine)


def load_registry(settings: Settings) -> JobRegistry:
    """The job functions: the built-in ones and those of CRONBASE_JOB_MODULES."""
    return load_job_modules(settings.job_module_list)


def open_store(settings: Settings, *, check: bool = True) -> SqlStore:
    """The store of CRONBASE_DATABASE_URL; with `check`, SchemaOutOfDate unless it is current."""
    store = SqlStore.from_url(
        settings.database_url,
        sqlite_busy_timeout=settings.sqlite_busy_timeout_seconds,
        pgbouncer=settings.pgbouncer,
        quiet_period=timedelta(seconds=settings.notification_quiet_period_seconds),
    )
    if check:
        check_schema(store.engine)
    return store


def build(
    settings: Settings,
    *,
    store: SqlStore | None = None,
    clock: Clock | None = None,
    registry: JobRegistry | None = None,
    check: bool = True,
    functions: bool = True,
) -> Services:
    """Every part, from `settings` except those given (tests bring their own). Without
    `functions`, the job modules are not imported: for work that never runs or checks a job."""
    store = store or open_store(settings, check=check)
    if registry is None:
        registry = load_registry(settings) if functions else JobRegistry()
    clock = clock or SystemClock()
    metrics = ProcessMetrics()
    deliverer = new_deliverer(settings, store, clock, metrics)
    channels = ChannelManager(
        store, clock, deliverer.box, deliverer, allow_private=settings.allow_private_webhooks
    )
    return Services(
        settings=settings,
        store=store,
        registry=registry,
        clock=clock,
        manager=JobManager(
            store,
            registry,
            clock,
            limits=job_limits(settings),
            channels=channels,
            token_cache=TokenCache(settings.token_cache_seconds),
        ),
        deliverer=deliverer,
        metrics=metrics,
    )


def new_deliverer(
    settings: Settings, store: SqlStore, clock: Clock, metrics: ProcessMetrics
) -> Deliverer:
    """The deliverer of notifications, with the secrets' key: CRONBASE_SECRET_KEY, or for a
    SQLite file a key file beside it (made on first use); it counts its failed attempts in
    `metrics`."""
    return Deliverer(
        store,
        clock,
        box_for(settings.secret_key, sqlite_file(store.engine.url)),
        senders(settings),
        owner=default_worker_id(),
        timeout=settings.notification_timeout_seconds,
        public_url=settings.public_url,
        retention=timedelta(days=settings.notification_retention_days),
        on_failure=metrics.notification_failed,
    )


def job_limits(settings: Settings) -> JobLimits:
    return JobLimits(
        max_jobs_per_tenant=settings.max_jobs_per_tenant,
        max_metadata_bytes=settings.max_metadata_bytes,
        max_metadata_depth=settings.max_metadata_depth,
    )
