"""The jobs list's copy of what it searches, filters and sorts on (cron_job_search,
cron_job_last_run): name, tenant and function exact at once, last run and status copied by the
workers' refresher (one pass at a time across the fleet), on both databases."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from cronbase.manager import SYSTEM, JobManager
from cronbase.registry import JobContext, JobRegistry
from cronbase.runner import Runner, Worker
from cronbase.runner.search_refresh import BURST_DEFERRAL, SearchRefresher
from cronbase.store import SqlStore
from cronbase.store.search import LOCK
from cronbase.store.tables import cron_job, cron_job_last_run, cron_job_search, cron_lock
from cronbase.testing import FakeClock
from tests.helpers import MakeJob, wait_for_runs_to_end

T0 = datetime(2025, 1, 15, 10, 30, tzinfo=UTC)


@pytest.fixture
def registry(gate: threading.Event) -> JobRegistry:
    registry = JobRegistry()

    @registry.job("note")
    def note(_ctx: JobContext) -> dict[str, Any]:
        return {}

    @registry.job("boom")
    def boom(_ctx: JobContext) -> dict[str, Any]:
        raise RuntimeError("boom")

    @registry.job("wait")
    def wait(_ctx: JobContext) -> dict[str, Any]:
        gate.wait(30)
        return {}

    return registry


@pytest.fixture
def runner(store: SqlStore, registry: JobRegistry, clock: FakeClock) -> Runner:
    return Runner(store, registry, clock, jitter=lambda: 0.0)


@pytest.fixture
def refresher(store: SqlStore, clock: FakeClock) -> SearchRefresher:
    return SearchRefresher(store, clock, "worker-1", every=2.0)


def names(manager: JobManager, **query: Any) -> list[str]:
    return [job.name for job in manager.list_jobs(SYSTEM, **query).items]


def test_name_and_function_are_searchable_at_once_after_a_create_or_an_edit(
    manager: JobManager, make_job: MakeJob
) -> None:
    job = make_job("note", name="Nightly export")
    make_job("note", name="Other")
    assert names(manager, q="EXPORT") == ["Nightly export"]
    manager.update_job(job.id, {"name": "Hourly import"}, SYSTEM)
    assert names(manager, q="export") == []
    assert names(manager, q="import") == ["Hourly import"]
    manager.update_job(job.id, {"function_name": "boom"}, SYSTEM)
    assert names(manager, function_name="boom") == ["Hourly import"]
    assert names(manager, function_name="note") == ["Other"]


def test_a_search_of_one_or_two_letters_finds_every_name_holding_them(
    manager: JobManager, make_job: MakeJob
) -> None:
    # Too short for trigrams: on PostgreSQL the names' one- and two-letter pieces narrow it.
    for name in ("Sync deals", "x", "ZZ top", "a-Zz", "Übersicht", "100%_done"):
        make_job("note", name=name)
    assert sorted(names(manager, q="zz")) == ["ZZ top", "a-Zz"]
    assert names(manager, q="X") == ["x"]
    assert sorted(names(manager, q="s")) == ["Sync deals", "Übersicht"]
    assert names(manager, q="c ") == ["Sync deals"]  # a space is a letter like another
    assert names(manager, q="cd") == []
    assert names(manager, q="nc") == ["Sync deals"]
    assert names(manager, q="%_") == ["100%_done"]
    assert names(manager, q="Üb") == ["Übersicht"]  # not ASCII: read without the pieces
    assert names(manager, q="qq") == []


def test_a_job_inserted_by_plain_sql_is_searchable_at_once(
    store: SqlStore, manager: JobManager
) -> None:
    with store.transaction() as conn:  # the seed's own INSERT
        conn.execute(
            sa.text(
                "INSERT INTO cron_job (name, schedule, function_name, is_active, next_run)"
                " VALUES ('Seeded sync', 'hourly', 'note', true, NULL)"
            )
        )
    assert names(manager, q="seeded") == ["Seeded sync"]
    assert names(manager, function_name="note") == ["Seeded sync"]


def test_jobs_that_ran_are_filtered_and_sorted_by_last_run_after_a_pass(
    runner: Runner,
    clock: FakeClock,
    make_job: MakeJob,
    manager: JobManager,
    refresher: SearchRefresher,
) -> None:
    make_job("note", name="early")
    make_job("boom", name="failing", schedule="cron:*/10 * * * *")
    make_job("note", name="never", schedule="cron:0 0 1 1 *")
    assert refresher.refresh() is not None  # nothing ran: nothing to copy
    clock.set(T0 + timedelta(minutes=5, seconds=1))  # early runs (every 5 minutes)
    runner.run_due()
    clock.set(T0 + timedelta(minutes=10, seconds=1))  # both run
    runner.run_due()
    # The copy lags until a pass (up to CRONBASE_SEARCH_REFRESH_SECONDS); the page shows the
    # job's own values.
    assert names(manager, last_status="failed") == []
    clock.advance(timedelta(seconds=2))
    done = refresher.refresh()
    assert done is not None
    assert done.copied == 2
    assert names(manager, last_status="failed") == ["failing"]
    assert names(manager, last_status="succeeded") == ["early"]
    # Both ran at the same instant: the id breaks the tie; a job that never ran comes last.
    assert names(manager, sort="-last_run")[-1] == "never"
    assert names(manager, sort="last_run")[-1] == "never"
    # By cursor, one a page: every job once, in the order of the page of all.
    walked, cursor = [], None
    while True:
        page = manager.list_jobs(SYSTEM, sort="-last_run", limit=1, cursor=cursor)
        walked += [job.name for job in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert walked == names(manager, sort="-last_run")


def test_a_long_runs_ending_is_caught_though_it_started_long_before_the_pass(
    runner: Runner,
    clock: FakeClock,
    make_job: MakeJob,
    manager: JobManager,
    refresher: SearchRefresher,
    gate: threading.Event,
) -> None:
    make_job("wait", name="long")
    clock.set(T0 + timedelta(minutes=5))
    runner.step(clock.now())
    refresher.refresh()
    assert names(manager, last_status="running") == ["long"]
    clock.advance(timedelta(hours=1))  # far past the start: only 'running' finds it
    gate.set()
    wait_for_runs_to_end(runner)
    assert names(manager, last_status="running") == ["long"]  # until the next pass
    done = refresher.refresh()
    assert done is not None
    assert done.copied == 1
    assert names(manager, last_status="running") == []
    assert names(manager, last_status="succeeded") == ["long"]


def test_a_deleted_job_leaves_the_copy_with_it(
    store: SqlStore, make_job: MakeJob, manager: JobManager
) -> None:
    job = make_job("note", name="gone")
    manager.delete_job(job.id, SYSTEM)
    with store.reading() as conn:
        for table in (cron_job_search, cron_job_last_run):
            assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() == 0
    assert names(manager, q="gone") == []


def test_a_full_pass_mends_a_rename_made_by_plain_sql(
    store: SqlStore, make_job: MakeJob, manager: JobManager, refresher: SearchRefresher
) -> None:
    job = make_job("note", name="before")
    with store.transaction() as conn:
        conn.execute(cron_job.update().where(cron_job.c.id == job.id).values(name="after"))
    assert names(manager, q="after") == []
    assert refresher.turn() is not None  # a process's first pass compares every job
    assert names(manager, q="after") == ["after"]


def test_one_pass_per_interval_across_the_fleet(
    store: SqlStore, clock: FakeClock, refresher: SearchRefresher
) -> None:
    other = SearchRefresher(store, clock, "worker-2", every=2.0)
    assert refresher.turn() is not None
    assert other.turn() is None  # worker-1's pass was a moment ago
    assert refresher.turn() is None  # its own interval has not passed
    clock.advance(timedelta(seconds=2))
    assert other.turn() is not None
    assert refresher.turn() is None
    # A process that ran jobs and exits (cronbase run-due) makes its pass whatever the mark.
    assert refresher.refresh(before_exit=True) is not None


def test_a_worker_refreshes_between_its_turns(
    store: SqlStore, clock: FakeClock, make_job: MakeJob, manager: JobManager, runner: Runner
) -> None:
    make_job("boom", name="failing")
    worker = Worker(runner, clock, refresher=SearchRefresher(store, clock, "w", every=2.0))
    clock.set(T0 + timedelta(minutes=5))
    worker.tick()  # claims and starts the run; this turn's pass sees it running
    wait_for_runs_to_end(runner)
    clock.advance(timedelta(seconds=2))
    worker.tick()
    assert names(manager, last_status="failed") == ["failing"]


def _ran_and_failed(
    make_job: MakeJob, runner: Runner, clock: FakeClock, refresher: SearchRefresher
) -> None:
    """A pass, then a run of a new job that failed: the copy does not know it yet."""
    make_job("boom", name="failing")
    clock.set(T0 + timedelta(minutes=5))
    assert refresher.turn() is not None  # the first pass: nothing has run yet
    runner.step(clock.now())
    wait_for_runs_to_end(runner)
    runner.step(clock.now())  # records the failure


def test_a_pass_waits_while_the_worker_claims_and_is_made_once_it_stops(
    clock: FakeClock,
    make_job: MakeJob,
    manager: JobManager,
    runner: Runner,
    refresher: SearchRefresher,
) -> None:
    _ran_and_failed(make_job, runner, clock, refresher)
    clock.advance(timedelta(seconds=refresher.every))  # a pass is due
    assert refresher.turn(claiming=True) is None  # a burst goes on: the pass waits
    assert names(manager, last_status="failed") == []
    assert refresher.turn(claiming=False) is not None  # the burst is over
    assert names(manager, last_status="failed") == ["failing"]


def test_a_burst_puts_a_pass_off_for_ten_intervals_at_most(
    clock: FakeClock,
    make_job: MakeJob,
    manager: JobManager,
    runner: Runner,
    refresher: SearchRefresher,
) -> None:
    _ran_and_failed(make_job, runner, clock, refresher)
    clock.advance(timedelta(seconds=refresher.every * BURST_DEFERRAL - 0.5))
    assert refresher.turn(claiming=True) is None
    clock.advance(timedelta(seconds=0.5))
    assert refresher.turn(claiming=True) is not None
    assert names(manager, last_status="failed") == ["failing"]


def test_a_worker_whose_threads_are_all_taken_puts_its_pass_off(
    store: SqlStore,
    registry: JobRegistry,
    clock: FakeClock,
    make_job: MakeJob,
    manager: JobManager,
    gate: threading.Event,
) -> None:
    # A burst: its one thread runs a job and more wait; the loop's turns claim nothing new.
    runner = Runner(store, registry, clock, concurrency=1, prefetch=2, jitter=lambda: 0.0)
    refresher = SearchRefresher(store, clock, "w", every=2.0)
    worker = Worker(runner, clock, refresher=refresher)
    make_job("boom", name="failing")
    clock.set(T0 + timedelta(minutes=5))
    worker.tick()  # the first pass; it claims and runs "failing"
    wait_for_runs_to_end(runner)
    for n in range(3):
        manager.run_now(make_job("wait", name=f"w{n}", schedule="on_demand").id, SYSTEM)
    clock.advance(timedelta(seconds=2))
    worker.tick()  # records the failure, claims the three: one runs, two wait
    clock.advance(timedelta(seconds=2))
    worker.tick()  # claims nothing, but its thread is taken: the pass waits
    assert names(manager, last_status="failed") == []
    gate.set()
    wait_for_runs_to_end(runner)
    clock.advance(timedelta(seconds=2))
    worker.tick()
    assert names(manager, last_status="failed") == ["failing"]


def test_one_refresher_at_a_time(store: SqlStore, clock: FakeClock) -> None:
    refresher = SearchRefresher(store, clock, "worker-1", every=2.0)
    key, name = LOCK
    if store.dialect == "postgresql":
        with store.engine.connect() as holder:  # another process in the middle of a pass
            holder.execute(sa.text(f"SELECT pg_advisory_lock({key})"))
            assert refresher.refresh() is None
            holder.execute(sa.text(f"SELECT pg_advisory_unlock({key})"))
    else:
        with store.transaction() as conn:
            conn.execute(
                cron_lock.insert().values(
                    name=name, holder="worker-2", expires_at=clock.now() + timedelta(seconds=60)
                )
            )
        assert refresher.refresh() is None
        clock.advance(timedelta(seconds=61))  # a holder that died frees it once it lapses
    assert refresher.refresh() is not None
