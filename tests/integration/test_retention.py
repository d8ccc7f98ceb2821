"""Run-history retention on both databases: what is pruned, what is kept, in batches, by one
pruner at a time, inside the worker loop; and which installations get a retention at all.

Time is a FakeClock: run rows are written at slots relative to it, and the pruner's cutoff
is read from it.
"""

from __future__ import annotations

import logging
import math
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from cronbase import retention
from cronbase.errors import InvalidJob
from cronbase.jobs import Job, RunTrigger
from cronbase.registry import JobRegistry
from cronbase.runner import Runner, Worker
from cronbase.runner.pruning import Pruner
from cronbase.store import SqlStore
from cronbase.store import retention as store_retention
from cronbase.store.migrate import _config, upgrade
from cronbase.store.tables import cron_job, cron_job_dependency, cron_job_run
from cronbase.testing import FakeClock
from tests.conftest import _admin, _with_database
from tests.helpers import MakeJob

DAY = timedelta(days=1)
# The schema revision just before the migration that brought retention.
BEFORE_RETENTION = next(
    script.down_revision
    for script in ScriptDirectory.from_config(_config()).walk_revisions()
    if script.path.endswith("_run_retention.py")
)
FOREVER = math.inf  # an idle worker with no job due: a turn may prune until the pass is over


def add_runs(
    store: SqlStore,
    job: Any,
    now: datetime,
    ages_in_days: list[float],
    status: str = "succeeded",
    **values: Any,
) -> None:
    rows = [
        {
            "job_id": job.id,
            "tenant_id": job.tenant_id,
            "scheduled_for": now - age * DAY,
            "status": status,
            **values,
        }
        for age in ages_in_days
    ]
    with store.transaction() as conn:
        conn.execute(cron_job_run.insert(), rows)


def ages_left(store: SqlStore, job: Any, now: datetime) -> list[float]:
    """The ages in days of the job's run rows, newest first (one per row)."""
    query = (
        sa.select(cron_job_run.c.scheduled_for)
        .where(cron_job_run.c.job_id == job.id)
        .order_by(cron_job_run.c.scheduled_for.desc(), cron_job_run.c.attempt.desc())
    )
    with store.reading() as conn:
        return [(now - slot) / DAY for slot in conn.execute(query).scalars()]


def pruner(
    store: SqlStore, clock: FakeClock, days: float | None = 30, holder: str = "w1", **kw: Any
) -> Pruner:
    return Pruner(store, clock, holder, retention_days=days, **kw)


def prune_pass(p: Pruner) -> None:
    """One whole pass, as an idle worker does it."""
    p.turn(busy=False, until_due=FOREVER)
    assert not p.in_pass


def test_runs_older_than_the_retention_go_and_newer_ones_stay(
    store: SqlStore, make_job: MakeJob, clock: FakeClock
) -> None:
    job = make_job("markUsersOffline")
    add_runs(store, job, clock.now(), [400, 100, 31, 29, 1])
    p = pruner(store, clock, days=30)
    prune_pass(p)
    assert ages_left(store, job, clock.now()) == [1, 29]

    # The next pass comes after the cadence's interval, with its cutoff from the clock.
    clock.advance(2 * DAY)
    prune_pass(p)
    assert ages_left(store, job, clock.now()) == [3]


def test_the_newest_keep_runs_stay_whatever_their_age(
    store: SqlStore, make_job: MakeJob, clock: FakeClock
) -> None:
    now = clock.now()
    keeping = make_job("markUsersOffline", name="keeps 3", keep_runs=3)
    plain = make_job("markUsersOffline", name="plain")
    few = make_job("markUsersOffline", name="keeps 20", keep_runs=20)
    for job in (keeping, plain, few):
        add_runs(store, job, now, [100 + i for i in range(10)])
    # a retry of the third newest slot: the attempts of a kept slot stay with it
    add_runs(store, keeping, now, [102], attempt=2)

    prune_pass(pruner(store, clock, days=30))

    assert ages_left(store, keeping, now) == [100, 101, 102, 102]
    assert ages_left(store, plain, now) == []
    assert ages_left(store, few, now) == [100 + i for i in range(10)]


def test_pending_and_running_runs_are_never_pruned(
    store: SqlStore, make_job: MakeJob, clock: FakeClock
) -> None:
    job = make_job("markUsersOffline")
    now = clock.now()
    add_runs(store, job, now, [200], status="pending", attempt=2, run_after=now)
    add_runs(store, job, now, [150], status="running", worker_id="w", lease_until=now)
    add_runs(store, job, now, [100, 90], status="failed")
    add_runs(store, job, now, [95], status="missed")
    prune_pass(pruner(store, clock, days=30))
    assert ages_left(store, job, now) == [150, 200]


def test_pruning_goes_in_batches_each_from_where_the_last_stopped(
    store: SqlStore, make_job: MakeJob, clock: FakeClock
) -> None:
    now = clock.now()
    # The oldest ten rows are kept (their job keeps 10): a batch that deletes nothing must not
    # end the pass before the prunable rows behind them.
    kept = make_job("markUsersOffline", name="kept", keep_runs=10)
    add_runs(store, kept, now, [300 + i for i in range(10)])
    pruned = make_job("markUsersOffline", name="pruned")
    add_runs(store, pruned, now, [100 + i for i in range(25)])
    before = now - 30 * DAY

    deleted, after, batches = [], None, 0
    while True:
        batch = store.prune_runs(before=before, after=after, limit=10, holder="w1", now=now)
        assert batch is not None
        batches += 1
        deleted.append(batch.deleted)
        if batch.next_after is None:
            break
        after = batch.next_after
    assert deleted == [0, 10, 10, 5]
    assert batches == 4
    assert len(ages_left(store, kept, now)) == 10
    assert ages_left(store, pruned, now) == []


def test_an_existing_installation_keeps_everything_a_new_one_keeps_90_days(
    any_empty_database: str, clock: FakeClock
) -> None:
    store = SqlStore.from_url(any_empty_database)
    try:
        # An installation made before retention existed, with history...
        config = _config()
        with store.engine.begin() as conn:
            config.attributes.update(connection=conn, new_database=True)
            command.upgrade(config, BEFORE_RETENTION)
        with store.transaction() as conn:
            job_id = conn.execute(
                cron_job.insert()
                .values(name="old", schedule="hourly", function_name="f")
                .returning(cron_job.c.id)
            ).scalar_one()
        job = SimpleNamespace(id=job_id, tenant_id=None)
        add_runs(store, job, clock.now(), [1000, 100, 1])
        # ... upgraded: it keeps every run,
        assert upgrade(store.engine)[0] == BEFORE_RETENTION
        assert store.stored_setting(retention.SETTING) is None
        prune_pass(pruner(store, clock, days=None))
        assert ages_left(store, job, clock.now()) == [1, 100, 1000]
        # until the setting is given.
        prune_pass(pruner(store, clock, days=90))
        assert ages_left(store, job, clock.now()) == [1]
    finally:
        store.close()


def test_a_new_installation_prunes_after_90_days_unless_told_otherwise(
    store: SqlStore, make_job: MakeJob, clock: FakeClock
) -> None:
    # `store` is a database migrated from nothing, as `cronbase migrate` makes a new one.
    assert store.stored_setting(retention.SETTING) == "90"
    job = make_job("markUsersOffline")
    add_runs(store, job, clock.now(), [91, 89])
    prune_pass(pruner(store, clock, days=None))
    assert ages_left(store, job, clock.now()) == [89]
    # CRONBASE_RUN_RETENTION_DAYS=0 keeps every run, whatever the database says.
    add_runs(store, job, clock.now(), [500])
    prune_pass(pruner(store, clock, days=0))
    assert ages_left(store, job, clock.now()) == [89, 500]


def test_a_second_pruner_is_refused_while_the_first_holds_the_lock(
    store: SqlStore, make_job: MakeJob, clock: FakeClock
) -> None:
    job = make_job("markUsersOffline")
    add_runs(store, job, clock.now(), [100 + i for i in range(5)])
    before = clock.now() - 30 * DAY

    def batch(holder: str, conn: sa.Connection | None = None) -> Any:
        args = {"before": before, "after": None, "limit": 1, "holder": holder, "now": clock.now()}
        if conn is None:
            return store.prune_runs(**args)
        return store_retention.prune_batch(conn, store.dialect, **args)

    if store.dialect == "postgresql":
        # The advisory lock lasts a batch's transaction: refused, not waiting, while it goes on.
        with store.transaction() as conn:
            assert batch("w1", conn) is not None
            assert batch("w2") is None
        assert batch("w2") is not None
        assert len(ages_left(store, job, clock.now())) == 5 - 2
        return
    # SQLite lets one writer in at a time anyway; the lock row keeps a pass to one worker.
    assert batch("w1") is not None  # w1's pass goes on (not ended)
    assert batch("w2") is None
    assert batch("w1") is not None  # the holder goes on
    clock.advance(store_retention.LOCK_TTL)  # w1 died: its lock lapses
    assert batch("w2") is not None
    store.end_pruning("w2", clock.now())  # a pass that ends frees it at once
    assert batch("w1") is not None
    assert len(ages_left(store, job, clock.now())) == 5 - 4


def test_two_workers_racing_prune_each_row_once_and_keep_what_must_stay(
    store: SqlStore,
    database_url: str,
    make_job: MakeJob,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = clock.now()
    keeping = make_job("markUsersOffline", name="keeping", keep_runs=5)
    plain = make_job("markUsersOffline", name="plain")
    add_runs(store, keeping, now, [100 + i / 10 for i in range(300)])
    add_runs(store, plain, now, [100 + i / 10 for i in range(900)])
    add_runs(store, plain, now, [100], status="running", worker_id="w", attempt=2)
    other = SqlStore.from_url(database_url)  # as another process would have
    workers = [
        Worker(
            Runner(each, JobRegistry(), clock, worker_id=f"w{i}"),
            clock,
            pruner=pruner(each, clock, holder=f"w{i}", batch_size=50),
        )
        for i, each in enumerate([store, other])
    ]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(worker: Worker) -> None:
        try:
            start.wait()
            for _ in range(100):
                worker.tick()
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    with caplog.at_level(logging.ERROR):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    other.close()
    assert errors == []
    assert "pruning the run history failed" not in caplog.text
    assert len(ages_left(store, keeping, now)) == 5
    assert ages_left(store, plain, now) == [100]  # the running one


def test_a_busy_worker_prunes_one_batch_per_gap_an_idle_one_until_done(
    store: SqlStore, make_job: MakeJob, clock: FakeClock
) -> None:
    job = make_job("markUsersOffline")
    add_runs(store, job, clock.now(), [100 + i / 100 for i in range(30)])
    p = pruner(store, clock, batch_size=10)
    p.turn(busy=True)
    assert len(ages_left(store, job, clock.now())) == 20
    assert p.in_pass
    p.turn(busy=True)  # too soon: a busy worker waits busy_gap between batches
    assert len(ages_left(store, job, clock.now())) == 20
    clock.advance(timedelta(seconds=p.cadence.busy_gap))
    p.turn(busy=True)
    assert len(ages_left(store, job, clock.now())) == 10
    p.turn(busy=False, until_due=FOREVER)
    assert ages_left(store, job, clock.now()) == []
    assert not p.in_pass


def test_a_run_that_started_a_dependent_run_stays_while_that_run_is_there(
    store: SqlStore, make_job: MakeJob, clock: FakeClock
) -> None:
    upstream = make_job("markUsersOffline", name="upstream")
    downstream = make_job("markUsersOffline", name="downstream", keep_runs=1)
    other = make_job("markUsersOffline", name="not a dependent")
    now = clock.now()
    with store.transaction() as conn:
        conn.execute(
            cron_job_dependency.insert().values(job_id=downstream.id, upstream_id=upstream.id)
        )
    add_runs(store, upstream, now, [200, 100])
    trigger_id = _run_ids(store, upstream)[-1]  # the 100-day-old run started one downstream
    add_runs(
        store,
        downstream,
        now,
        [100],
        trigger=RunTrigger.DEPENDENCY.value,
        trigger_key=str(trigger_id),
        triggered_by=[str(trigger_id)],
    )
    add_runs(store, other, now, [100])  # of the same slot, but not a dependent's run

    prune_pass(pruner(store, clock, days=30))
    assert ages_left(store, upstream, now) == [100]  # it started a run that is kept
    assert ages_left(store, downstream, now) == [100]  # its job keeps 1
    assert ages_left(store, other, now) == []

    with store.transaction() as conn:  # the dependent's run goes: the next pass prunes it
        conn.execute(cron_job_run.delete().where(cron_job_run.c.job_id == downstream.id))
    prune_pass(pruner(store, clock, days=30))
    assert ages_left(store, upstream, now) == []


def _run_ids(store: SqlStore, job: Job) -> list[uuid.UUID]:
    query = (
        sa.select(cron_job_run.c.id)
        .where(cron_job_run.c.job_id == job.id)
        .order_by(cron_job_run.c.scheduled_for)
    )
    with store.reading() as conn:
        return list(conn.execute(query).scalars())


def test_keep_runs_out_of_range_is_refused_with_the_allowed_range(make_job: MakeJob) -> None:
    for bad in (0, -1, 100_001, "5", 2.5):
        with pytest.raises(InvalidJob) as refused:
            make_job("markUsersOffline", keep_runs=bad)
        assert refused.value.errors == [
            (
                "keep_runs",
                (
                    "must be a whole number from 1 to 100000, or null to let the run-history "
                    "retention alone decide"
                ),
            )
        ]
    assert make_job("markUsersOffline", keep_runs=100_000).keep_runs == 100_000


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_empty_database(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """A database with no schema at all, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    admin = request.getfixturevalue("postgres_admin_url")
    name = f"cronbase_test_{uuid.uuid4().hex[:12]}"
    _admin(admin, f"CREATE DATABASE {name}")
    try:
        yield _with_database(admin, name)
    finally:
        _admin(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
