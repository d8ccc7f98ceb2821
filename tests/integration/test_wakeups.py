"""Wake-ups on PostgreSQL: the store's writes that add work NOTIFY in their own transaction,
and a worker LISTENing on its own connection starts such work at once rather than at its next
poll; with the listening connection gone it polls, and it reconnects."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from cronbase.clock import SystemClock
from cronbase.jobs import RunStatus
from cronbase.manager import SYSTEM, JobManager
from cronbase.registry import JobContext, JobRegistry
from cronbase.runner import Runner, Worker
from cronbase.runner.planning import plan_slots
from cronbase.store import SqlStore
from cronbase.store.wakeups import CHANNEL, FIRST_BACKOFF_SECONDS, Listener
from tests.helpers import create_job, recording_registry, run_history, wait_until
from tests.silent_proxy import SilentProxy

pytestmark = pytest.mark.postgres

# The worker polls this seldom: a test that sees a run start well before it saw a wake-up.
LONG_POLL = 30.0
# How long a test waits for a woken worker: far below LONG_POLL, far above a loaded machine's
# scheduling hiccups.
PROMPTLY = 10.0


@pytest.fixture
def calls() -> list[JobContext]:
    return []


@pytest.fixture
def registry(calls: list[JobContext]) -> JobRegistry:
    registry = recording_registry(calls)

    @registry.job("fail")
    def fail(_ctx: JobContext) -> dict[str, Any]:
        raise RuntimeError("failing on purpose")

    return registry


@pytest.fixture
def pg_store(postgres_url: str) -> Iterator[SqlStore]:
    store = SqlStore.from_url(postgres_url)
    yield store
    store.close()


@pytest.fixture
def live_manager(pg_store: SqlStore, registry: JobRegistry) -> JobManager:
    return JobManager(pg_store, registry, SystemClock())


@pytest.fixture
def listening(postgres_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A session LISTENing on the wake-up channel, as a worker's listener does."""
    with psycopg.connect(_libpq(postgres_url), autocommit=True) as conn:
        conn.execute(f"LISTEN {CHANNEL}")
        yield conn


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _woken(conn: psycopg.Connection[Any]) -> bool:
    return bool(list(conn.notifies(timeout=2.0, stop_after=1)))


def _start_worker(store: SqlStore, registry: JobRegistry, *, max_sleep: float) -> Worker:
    clock = SystemClock()
    listener = Listener(store.engine, threading.Event())
    worker = Worker(Runner(store, registry, clock), clock, max_sleep=max_sleep, listener=listener)
    worker.start()
    wait_until(listener.connected.is_set, what="the worker to LISTEN", timeout=PROMPTLY)
    return worker


@pytest.fixture
def stop_workers() -> Iterator[list[Worker]]:
    workers: list[Worker] = []
    yield workers
    for worker in workers:
        worker.stop.set()
        worker.stop_now.set()
        worker.join(10)


def _succeeded(store: SqlStore, count: int = 1) -> bool:
    return [run.status for run in run_history(store)].count(RunStatus.SUCCEEDED.value) >= count


def test_each_write_that_adds_work_wakes_the_listeners(
    live_manager: JobManager, pg_store: SqlStore, listening: psycopg.Connection[Any]
) -> None:
    job = create_job(live_manager, "record", schedule="daily")
    assert _woken(listening), "a created job"
    live_manager.update_job(job.id, {"schedule": "hourly"}, SYSTEM)
    assert _woken(listening), "an edited job"
    live_manager.run_now(job.id, SYSTEM)
    assert _woken(listening), "a run now"
    clock = SystemClock()
    claims, _ = pg_store.claim_due(clock.now(), "w1", plan_slots, 10)
    assert _woken(listening) is False, "a claim adds no work"
    pg_store.release_runs([claim.run_id for claim in claims], "w1", clock.now())
    assert _woken(listening), "a claim given back"


def test_a_queued_retry_wakes_the_listeners(
    live_manager: JobManager,
    pg_store: SqlStore,
    registry: JobRegistry,
    listening: psycopg.Connection[Any],
) -> None:
    job = create_job(
        live_manager, "fail", schedule="on_demand", max_attempts=2, retry_delay_seconds=3600
    )
    live_manager.run_now(job.id, SYSTEM)
    list(listening.notifies(timeout=0.5))  # those of the create and the run now
    Runner(pg_store, registry, SystemClock()).run_due()
    [pending] = [run for run in run_history(pg_store) if run.status == RunStatus.PENDING.value]
    assert pending.attempt == 2
    assert _woken(listening)  # sent by the transaction that recorded the failure


def test_a_run_now_starts_at_once_on_an_idle_worker(
    live_manager: JobManager,
    pg_store: SqlStore,
    registry: JobRegistry,
    stop_workers: list[Worker],
) -> None:
    job = create_job(live_manager, "record", schedule="on_demand")
    stop_workers.append(_start_worker(pg_store, registry, max_sleep=LONG_POLL))
    for count in (1, 2):  # the first wakes a worker that was asleep from the start; then again
        live_manager.run_now(job.id, SYSTEM)
        wait_until(lambda c=count: _succeeded(pg_store, c), what="the run now", timeout=PROMPTLY)


def test_a_job_created_due_now_starts_at_once(
    pg_store: SqlStore, registry: JobRegistry, stop_workers: list[Worker]
) -> None:
    stop_workers.append(_start_worker(pg_store, registry, max_sleep=LONG_POLL))
    now = SystemClock().now()
    pg_store.insert_job(
        {
            "name": "due now",
            "schedule": "daily",
            "function_name": "record",
            "next_run": now,
            "created_at": now,
            "updated_at": now,
        }
    )
    wait_until(lambda: _succeeded(pg_store), what="the new job's run", timeout=PROMPTLY)


def test_a_worker_whose_listening_connection_is_cut_reconnects(
    live_manager: JobManager,
    pg_store: SqlStore,
    registry: JobRegistry,
    postgres_url: str,
    stop_workers: list[Worker],
) -> None:
    job = create_job(live_manager, "record", schedule="on_demand")
    worker = _start_worker(pg_store, registry, max_sleep=LONG_POLL)
    stop_workers.append(worker)
    assert worker.listener is not None
    cut = worker.listener.backend_pid
    with psycopg.connect(_libpq(postgres_url), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [cut])
    wait_until(
        lambda: (
            worker.listener is not None
            and worker.listener.connected.is_set()
            and worker.listener.backend_pid != cut
        ),
        what="the listener to reconnect",
        timeout=PROMPTLY,
    )
    live_manager.run_now(job.id, SYSTEM)
    wait_until(lambda: _succeeded(pg_store), what="the run now", timeout=PROMPTLY)


def test_while_it_cannot_listen_the_worker_polls(
    live_manager: JobManager,
    pg_store: SqlStore,
    registry: JobRegistry,
    stop_workers: list[Worker],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def refused(_self: Listener) -> None:
        raise psycopg.OperationalError("connection refused")

    monkeypatch.setattr(Listener, "_listen", refused)
    job = create_job(live_manager, "record", schedule="on_demand")
    clock = SystemClock()
    listener = Listener(pg_store.engine, threading.Event())
    worker = Worker(Runner(pg_store, registry, clock), clock, max_sleep=0.5, listener=listener)
    worker.start()
    stop_workers.append(worker)
    live_manager.run_now(job.id, SYSTEM)
    wait_until(lambda: _succeeded(pg_store), what="the run now, by polling", timeout=PROMPTLY)
    assert not listener.connected.is_set()
    assert "polling meanwhile, reconnecting in" in caplog.text


def test_each_drop_of_a_connection_that_worked_starts_the_backoff_afresh(
    pg_store: SqlStore, postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # A connection that listened, however briefly, and then dropped is a new outage, not
    # the next failure of the last one: a worker whose connection a proxy cuts now and then
    # must not end up reconnecting only every 30 s.
    caplog.set_level("WARNING", logger="cronbase.store.wakeups")
    listener = Listener(pg_store.engine, threading.Event())
    listener.start()
    try:
        for drop in range(1, 4):
            wait_until(listener.connected.is_set, what="the listener to LISTEN", timeout=PROMPTLY)
            cut = listener.backend_pid
            with psycopg.connect(_libpq(postgres_url), autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", [cut])
            wait_until(
                lambda c=cut: listener.connected.is_set() and listener.backend_pid != c,
                what=f"the listener to reconnect after drop {drop}",
                timeout=PROMPTLY,
            )
    finally:
        listener.close()
    backoffs = [record.args[-1] for record in caplog.records if record.levelname == "WARNING"]
    assert backoffs == [FIRST_BACKOFF_SECONDS] * 3


def _through(proxy: SilentProxy, url: str) -> sa.Engine:
    return sa.create_engine(sa.make_url(url).set(host="127.0.0.1", port=proxy.port))


def test_a_listening_connection_that_goes_silent_is_replaced(postgres_url: str) -> None:
    # A NAT that forgets the idle listening connection's flow sends no reset: without its
    # probe, the listener would wait for ever, deaf, while claiming to be connected.
    url = sa.make_url(postgres_url)
    wake = threading.Event()
    with SilentProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        engine = _through(proxy, postgres_url)
        listener = Listener(engine, wake, probe_seconds=0.2, probe_timeout=1.0)
        listener.start()
        try:
            wait_until(listener.connected.is_set, what="the listener to LISTEN", timeout=PROMPTLY)
            deaf = listener.backend_pid
            assert proxy.silence() >= 1
            wait_until(
                lambda: listener.connected.is_set() and listener.backend_pid != deaf,
                what="the listener to notice the silence and listen anew",
                timeout=PROMPTLY,
            )
            wake.clear()
            with psycopg.connect(_libpq(postgres_url), autocommit=True) as other:
                other.execute(f"NOTIFY {CHANNEL}")
            wait_until(wake.is_set, what="a wake-up heard on the new connection", timeout=PROMPTLY)
        finally:
            listener.close()
            engine.dispose()


def test_a_listening_connection_that_answers_its_probes_is_kept(postgres_url: str) -> None:
    listener = Listener(
        sa.create_engine(postgres_url), threading.Event(), probe_seconds=0.1, probe_timeout=1.0
    )
    listener.start()
    try:
        wait_until(listener.connected.is_set, what="the listener to LISTEN", timeout=PROMPTLY)
        kept = listener.backend_pid
        wait_until(lambda: listener.probes_heard >= 5, what="five probes heard", timeout=PROMPTLY)
        assert listener.connected.is_set()
        assert listener.backend_pid == kept
    finally:
        listener.close()
