"""Backfills: a day of an hourly job is 24 slots (23 or 25 across a DST change in the job's
zone), slots that succeeded are not run again, the runs go one at a time in slot order after
the due scheduled runs, a cancelled backfill's waiting runs go, and include_dependents replays
a chain."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cronbase.errors import InvalidJob
from cronbase.jobs import Job
from cronbase.manager import SYSTEM, JobManager
from cronbase.registry import JobContext, JobRegistry
from cronbase.runner import Runner
from cronbase.runner.planning import plan_slots
from cronbase.store import SqlStore
from cronbase.store.tables import cron_job, cron_job_run
from cronbase.testing import FakeClock
from tests.helpers import MakeJob, run_history

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def registry() -> JobRegistry:
    registry = JobRegistry()

    @registry.job("echo")
    def echo(ctx: JobContext) -> dict[str, Any]:
        return {"slot": ctx.scheduled_for.isoformat()}

    return registry


def day(year: int, month: int, date: int) -> tuple[datetime, datetime]:
    start = datetime(year, month, date, tzinfo=BERLIN)
    return start, datetime.combine(start.date() + timedelta(days=1), start.timetz())


def runs(store: SqlStore, job: Job) -> list[Any]:
    return [run for run in run_history(store) if run.job_id == job.id]


@pytest.mark.parametrize(
    ("date", "slots"),
    [((2024, 11, 12), 24), ((2024, 3, 31), 23), ((2024, 10, 27), 25)],
    ids=["plain day", "spring forward", "fall back"],
)
def test_a_day_of_an_hourly_job_is_24_slots_or_23_or_25_across_dst(
    make_job: MakeJob, manager: JobManager, date: tuple[int, int, int], slots: int
) -> None:
    job = make_job("echo", schedule="hourly", timezone="Europe/Berlin")
    start, end = day(*date)
    backfill, previewed = manager.backfill(job.id, SYSTEM, start=start, end=end, dry_run=True)
    assert backfill is None
    assert len(previewed) == slots
    assert len(set(previewed)) == slots
    assert previewed == sorted(previewed)
    assert all(start <= slot < end for slot in previewed)


def test_a_backfill_runs_the_slots_that_did_not_succeed_one_at_a_time_in_order(
    store: SqlStore,
    make_job: MakeJob,
    manager: JobManager,
    registry: JobRegistry,
    clock: FakeClock,
    insert_rows: Any,
) -> None:
    job = make_job("echo", schedule="hourly", timezone="Europe/Berlin")
    start, end = day(2024, 11, 12)
    done = start.astimezone(UTC) + timedelta(hours=3)
    failed = done + timedelta(hours=1)
    insert_rows(
        cron_job_run,
        [
            {"job_id": job.id, "scheduled_for": done, "status": "succeeded"},
            {"job_id": job.id, "scheduled_for": failed, "status": "failed"},
        ],
    )
    backfill, queued = manager.backfill(job.id, SYSTEM, start=start, end=end)
    assert backfill is not None
    assert len(queued) == 23  # not the slot that succeeded; the failed one runs again
    assert done not in queued
    assert failed in queued
    # A second backfill of the same range queues nothing: every slot is pending already.
    assert manager.backfill(job.id, SYSTEM, start=start, end=end)[1] == []

    Runner(store, registry, clock).run_due()
    ran = [r for r in runs(store, job) if r.trigger == "backfill"]
    assert [r.status for r in ran] == ["succeeded"] * 23
    by_start = sorted(ran, key=lambda r: r.started_at)
    assert [r.scheduled_for for r in by_start] == sorted(queued)  # in slot order
    for earlier, later in itertools.pairwise(by_start):
        assert earlier.finished_at <= later.started_at  # one at a time
    progress = manager.get_backfill(job.id, backfill.id, SYSTEM)
    assert (progress.slots, progress.succeeded, progress.pending, progress.done) == (
        23,
        23,
        0,
        True,
    )


def test_backfill_runs_yield_to_due_scheduled_runs_and_wait_while_paused(
    store: SqlStore, make_job: MakeJob, manager: JobManager, clock: FakeClock
) -> None:
    old = make_job("echo", name="Old", schedule="hourly")
    manager.backfill(
        old.id, SYSTEM, start=clock.now() - timedelta(hours=3), end=clock.now(), dry_run=False
    )
    due = make_job("echo", name="Due", schedule="every_5_minutes")
    clock.advance(timedelta(minutes=5))
    [first], _ = store.claim_due(clock.now(), "w", plan_slots, limit=1)
    assert first.job.id == due.id  # the scheduled slot first
    manager.update_job(old.id, {"is_active": False}, SYSTEM)
    claims, _ = store.claim_due(clock.now(), "w", plan_slots, limit=10)
    assert claims == []  # the paused job's backfill waits


def test_cancelling_removes_the_waiting_runs(
    store: SqlStore, make_job: MakeJob, manager: JobManager, clock: FakeClock
) -> None:
    job = make_job("echo", schedule="hourly")
    backfill, queued = manager.backfill(
        job.id, SYSTEM, start=clock.now() - timedelta(hours=5), end=clock.now()
    )
    assert backfill is not None
    assert len(queued) == 5
    cancelled = manager.cancel_backfill(job.id, backfill.id, SYSTEM)
    assert cancelled.cancelled_at is not None
    assert (cancelled.removed, cancelled.pending, cancelled.done) == (5, 0, True)
    assert runs(store, job) == []


def test_include_dependents_replays_a_chain(
    store: SqlStore,
    make_job: MakeJob,
    manager: JobManager,
    registry: JobRegistry,
    clock: FakeClock,
) -> None:
    a = make_job("echo", name="A", schedule="hourly")
    dependency = [{"job_id": str(a.id)}]
    b = make_job("echo", name="B", schedule="on_demand", depends_on=dependency)
    c = make_job("echo", name="C", schedule="on_demand", depends_on=[{"job_id": str(b.id)}])
    runner = Runner(store, registry, clock)
    three_hours = {"start": clock.now() - timedelta(hours=3), "end": clock.now()}

    manager.backfill(a.id, SYSTEM, **three_hours)
    runner.run_due()
    assert len(runs(store, a)) == 3
    assert runs(store, b) == []  # not asked to replay the dependents

    # A second backfill of failed slots is allowed, and this one replays the chain.
    with store.transaction() as conn:
        conn.execute(cron_job_run.update().values(status="failed"))
    manager.backfill(a.id, SYSTEM, include_dependents=True, **three_hours)
    runner.run_due()
    replayed = [r for r in runs(store, a) if r.status == "succeeded"]
    assert len(replayed) == 3
    for job in (b, c):
        assert sorted(r.scheduled_for for r in runs(store, job)) == sorted(
            r.scheduled_for for r in replayed
        )
        assert {r.status for r in runs(store, job)} == {"succeeded"}


def test_bad_backfills_are_refused(
    make_job: MakeJob, manager: JobManager, clock: FakeClock
) -> None:
    now = clock.now()
    hourly = make_job("echo", name="H", schedule="hourly")
    minutely = make_job("echo", name="M", schedule="every_1_minutes")
    lonely = make_job("echo", name="O", schedule="on_demand")
    with pytest.raises(InvalidJob, match="must be after start"):
        manager.backfill(hourly.id, SYSTEM, start=now, end=now)
    with pytest.raises(InvalidJob, match=r"holds 1,440 slots .* at most 1,000"):
        manager.backfill(minutely.id, SYSTEM, start=now - timedelta(days=1), end=now)
    with pytest.raises(InvalidJob, match="on_demand job has no slots"):
        manager.backfill(lonely.id, SYSTEM, start=now - timedelta(days=1), end=now)
    with pytest.raises(InvalidJob, match="needs a zone or offset"):
        manager.backfill(hourly.id, SYSTEM, start=datetime(2025, 1, 1), end=now)


def test_a_range_too_large_is_refused_without_waiting_for_the_job(
    make_job: MakeJob, manager: JobManager, store: SqlStore, clock: FakeClock
) -> None:
    """Counting the slots of centuries of an every-minute job takes a while: the refusal comes
    before the job is locked, so it neither waits behind a lock nor holds one (on SQLite, the
    whole database's) while it counts."""
    now = clock.now()
    minutely = make_job("echo", name="M", schedule="every_1_minutes")
    outcome: list[BaseException] = []

    def backfill() -> None:
        try:
            manager.backfill(minutely.id, SYSTEM, start=now.replace(year=1900), end=now)
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            outcome.append(exc)

    with store.transaction() as conn:  # holds the job's row (SQLite: the write lock)
        conn.execute(cron_job.update().where(cron_job.c.id == minutely.id).values(priority=1))
        worker = threading.Thread(target=backfill)
        worker.start()
        worker.join(timeout=30)
    worker.join(timeout=30)
    assert len(outcome) == 1, "the backfill waited for the job's lock"
    assert isinstance(outcome[0], InvalidJob)
    assert "more than 10,000 slots" in str(outcome[0])
