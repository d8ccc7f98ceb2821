"""cronbase_runs_recorded_total reads a tally the database keeps (migration 0019's triggers),
not a count of the history: it agrees with the runs recorded, whatever wrote them, and is a
true counter: pruning or deleting runs never lowers it. Both databases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from cronbase.jobs import RunStatus
from cronbase.manager import SYSTEM, JobManager
from cronbase.registry import JobRegistry
from cronbase.runner import Runner
from cronbase.store import SqlStore
from cronbase.store.tables import cron_job_run, cron_run_tally
from cronbase.testing import FakeClock
from tests.helpers import MakeJob, create_job, wait_until


@pytest.fixture
def registry(quick_and_boom: JobRegistry) -> JobRegistry:
    return quick_and_boom


def rows_by_status(store: SqlStore) -> dict[str, int]:
    """The run rows, counted here with SQL of the test's own."""
    query = sa.select(cron_job_run.c.status, sa.func.count()).group_by(cron_job_run.c.status)
    with store.reading() as conn:
        return {status: count for status, count in conn.execute(query)}  # noqa: C416


def recorded(manager: JobManager) -> dict[str, int]:
    counts = manager.counts()
    return {status.value: n for status, n in (counts.runs | counts.in_progress).items() if n}


def test_the_tally_agrees_with_the_runs_recorded_and_never_goes_down(
    store: SqlStore,
    manager: JobManager,
    registry: JobRegistry,
    clock: FakeClock,
    make_job: MakeJob,
    insert_rows: Any,
) -> None:
    ok = make_job("quick", schedule="every_1_minutes")
    bad = make_job("boom", schedule="every_1_minutes")
    runner = Runner(store, registry, clock)
    for _ in range(3):
        clock.advance(timedelta(minutes=1))
        runner.run_due()
    manager.run_now(ok.id, SYSTEM)  # pending until a round starts it
    # Rows written by plain SQL count too: a missed row inserted, a running one ended.
    slot = clock.now() - timedelta(days=1)
    insert_rows(
        cron_job_run,
        [
            {"job_id": ok.id, "scheduled_for": slot, "status": "missed"},
            {"job_id": bad.id, "scheduled_for": slot, "status": "running"},
        ],
    )
    with store.transaction() as conn:
        going = cron_job_run.c.status == "running"
        # A lease renewal changes no status: nothing is counted.
        conn.execute(cron_job_run.update().where(going).values(lease_until=clock.now()))
        conn.execute(cron_job_run.update().where(going).values(status="abandoned"))

    expected = {"succeeded": 3, "failed": 3, "missed": 1, "abandoned": 1, "pending": 1}
    assert rows_by_status(store) == expected
    assert recorded(manager) == expected
    assert set(manager.counts().runs) == set(RunStatus) - {RunStatus.PENDING, RunStatus.RUNNING}

    # Deleting a job deletes its runs; pruning would too: the counter stays where it was.
    manager.delete_job(bad.id, SYSTEM)
    with store.transaction() as conn:
        conn.execute(cron_job_run.delete().where(cron_job_run.c.status == "succeeded"))
    assert rows_by_status(store) == {"missed": 1, "pending": 1}
    assert recorded(manager) == expected
    clock.advance(timedelta(minutes=1))
    runner.run_due()  # the manual run and the next slot of `ok`: each new ending counts on
    now = rows_by_status(store)
    added = {status: now.get(status, 0) - {"missed": 1}.get(status, 0) for status in now}
    assert sum(added.values()) == 2
    after = recorded(manager)
    after.pop("pending", None)
    assert after == {
        status: expected.get(status, 0) + added.get(status, 0)
        for status in {*expected, *added} - {"pending"}
    }


@pytest.mark.postgres
def test_a_scrape_folds_the_tally_of_connections_that_ended(
    postgres_url: str, registry: JobRegistry, clock: FakeClock
) -> None:
    """Each PostgreSQL connection counts into a row of its own (its backend's pid). A
    `cronbase run-due` in a crontab opens new ones every minute: without folding the rows of
    ended connections, the tally, and the sum a scrape reads, would grow by a few rows a
    minute for good."""
    store = SqlStore.from_url(postgres_url)
    try:
        manager = JobManager(store, registry, clock)
        job = create_job(manager, "quick", schedule="every_1_minutes")
        ended: list[int] = []
        for minute in range(5):  # five short-lived processes, one run each
            once = SqlStore.from_url(postgres_url)
            with once.transaction() as conn:
                ended.append(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
                slot = clock.now() - timedelta(minutes=minute + 1)
                conn.execute(
                    cron_job_run.insert().values(job_id=job.id, scheduled_for=slot, status="missed")
                )
            once.close()
        wait_until(lambda: not _alive(store, ended), what="the short-lived connections to end")

        assert manager.counts().runs[RunStatus.MISSED] == 5
        with store.reading() as conn:
            shards = conn.execute(sa.select(cron_run_tally.c.shard)).scalars().all()
        assert set(shards).isdisjoint(ended)
        assert manager.counts().runs[RunStatus.MISSED] == 5  # folded, not lost nor doubled
    finally:
        store.close()


def _alive(store: SqlStore, pids: list[int]) -> bool:
    # A transaction of its own each time: pg_stat_activity is read once per transaction.
    query = sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)")
    with store.reading() as conn:
        return bool(conn.execute(query, {"pids": pids}).scalar_one())
