"""What the Web UI's pictures read, on a real store: each job's recent runs (the strips and
the job's chart) and the last hour per minute (the overview), on both databases."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from cronbase.activity import MinuteActivity
from cronbase.auth import Principal, Role
from cronbase.manager import SYSTEM, JobManager
from cronbase.registry import JobRegistry
from cronbase.runner import Runner
from cronbase.store import SqlStore
from cronbase.store.tables import cron_job, cron_job_run
from cronbase.testing import FakeClock
from tests.helpers import MakeJob

InsertRows = Callable[[sa.Table, list[dict[str, Any]]], None]


@pytest.fixture
def registry(quick_and_boom: JobRegistry) -> JobRegistry:
    return quick_and_boom


@contextmanager
def statements_on(store: SqlStore) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements (and their parameters) sent while the block runs."""
    sent: list[tuple[str, Any]] = []

    def remember(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    sa.event.listen(store.engine, "before_cursor_execute", remember)
    try:
        yield sent
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", remember)


def _job_row(name: str, tenant_id: uuid.UUID | None = None) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "tenant_id": tenant_id,
        "name": name,
        "schedule": "every_1_minutes",
        "function_name": "quick",
    }


def _run_row(job: dict[str, Any], slot: datetime, status: str, **values: Any) -> dict[str, Any]:
    """A run of `job` at `slot`: started a second late, two seconds long, unless `values` say."""
    started = values.get("started_at", slot + timedelta(seconds=1))
    finished = started + timedelta(seconds=2) if started else None
    return {
        "job_id": job["id"],
        "tenant_id": job["tenant_id"],
        "scheduled_for": slot,
        "status": status,
        "started_at": started,
        "finished_at": finished,
        "attempt": 1,
        **values,
    }


START = datetime(2025, 1, 15, 8, 0, tzinfo=UTC)


def test_recent_runs_are_each_jobs_newest_not_pending_oldest_first_in_one_query(
    store: SqlStore, insert_rows: InsertRows
) -> None:
    tenant = store.insert_tenant("Acme")
    busy, theirs, never = _job_row("busy"), _job_row("theirs", tenant), _job_row("never")
    insert_rows(cron_job, [busy, theirs, never])
    slots = [START + timedelta(minutes=i) for i in range(25)]
    rows = [_run_row(busy, slot, "succeeded") for slot in slots]
    rows[-3]["status"] = "failed"
    # The newest slot failed, was retried (attempt 2, still going) and has a third attempt
    # waiting: the waiting one has no outcome and is left out.
    rows[-1]["status"] = "failed"
    rows.append(_run_row(busy, slots[-1], "running", attempt=2, finished_at=None))
    rows.append(_run_row(busy, slots[-1], "pending", attempt=3, started_at=None, finished_at=None))
    rows += [_run_row(theirs, slot, "timed_out") for slot in slots[:3]]
    insert_rows(cron_job_run, rows)

    ids = [busy["id"], theirs["id"], never["id"], uuid.uuid4()]
    with statements_on(store) as sent:
        recent = store.recent_runs(ids, limit=20)
    assert len([s for s, _ in sent if "cron_job_run" in s]) == 1, sent

    assert set(recent) == {busy["id"], theirs["id"]}  # "never" has no runs; one id is unknown
    strip = recent[busy["id"]]
    assert len(strip) == 20
    assert [(r.scheduled_for, r.attempt) for r in strip] == [
        *[(slot, 1) for slot in slots[6:]],
        (slots[-1], 2),
    ]
    assert [r.status for r in strip[-4:]] == ["failed", "succeeded", "failed", "running"]
    assert strip[0].duration_ms == 2000
    assert strip[0].start_lag_ms == 1000
    assert strip[-1].duration_ms is None  # still going
    assert [r.status for r in recent[theirs["id"]]] == ["timed_out"] * 3

    assert set(store.recent_runs(ids, limit=20, tenant_id=tenant)) == {theirs["id"]}
    assert [len(runs) for runs in store.recent_runs(ids, limit=2).values()] == [2, 2]
    assert store.recent_runs([], limit=20) == {}


def _admin_of(tenant_id: uuid.UUID) -> Principal:
    return Principal("admin@acme.test", Role.ADMIN, tenant_id)


def _at(clock: FakeClock, minute: int, second: int) -> None:
    clock.set(datetime(2025, 1, 15, 10, minute, second, tzinfo=UTC))


def test_the_last_hour_counts_runs_failures_and_start_lag_per_minute(
    store: SqlStore,
    manager: JobManager,
    make_job: MakeJob,
    registry: JobRegistry,
    clock: FakeClock,
) -> None:
    acme = store.insert_tenant("Acme")
    ok = make_job("quick", name="ok", schedule="every_1_minutes")
    bad = make_job("boom", name="bad", schedule="every_2_minutes", tenant_id=acme)
    runner = Runner(store, registry, clock)
    # The clock starts at 10:30:00. Each run starts as the clock says, so its start lag is
    # the seconds past its slot.
    _at(clock, 31, 1)
    runner.run_due()  # ok: lag 1 s
    _at(clock, 32, 2)
    runner.run_due()  # ok and bad (fails): lag 2 s each
    manager.run_now(ok.id, SYSTEM)  # a manual run queued at 10:32:02 ...
    _at(clock, 32, 32)
    runner.run_due()  # ... starts 30 s later
    _at(clock, 33, 3)
    runner.run_due()  # ok: lag 3 s

    minutes = manager.minute_activity(SYSTEM)

    assert len(minutes) == 60
    assert minutes[0].minute == datetime(2025, 1, 15, 9, 34, tzinfo=UTC)
    assert minutes[-1].minute == datetime(2025, 1, 15, 10, 33, tzinfo=UTC)
    assert [m for m in minutes if m.runs] == [
        MinuteActivity(datetime(2025, 1, 15, 10, 31, tzinfo=UTC), 1, 0, 1000, 1000),
        MinuteActivity(datetime(2025, 1, 15, 10, 32, tzinfo=UTC), 3, 1, 11333, 30000),
        MinuteActivity(datetime(2025, 1, 15, 10, 33, tzinfo=UTC), 1, 0, 3000, 3000),
    ]
    assert minutes[0] == MinuteActivity(datetime(2025, 1, 15, 9, 34, tzinfo=UTC))

    # An admin counts their tenant's jobs only.
    theirs = [m for m in manager.minute_activity(_admin_of(acme)) if m.runs]
    assert theirs == [MinuteActivity(datetime(2025, 1, 15, 10, 32, tzinfo=UTC), 1, 1, 2000, 2000)]
    assert not any(m.runs for m in manager.minute_activity(_admin_of(uuid.uuid4())))

    # An hour later, those minutes have left the window.
    clock.advance(timedelta(minutes=59))
    assert [m.runs for m in manager.minute_activity(SYSTEM)][:2] == [1, 0]
    clock.advance(timedelta(minutes=1))
    assert not any(m.runs for m in manager.minute_activity(SYSTEM))

    # The same runs, as the job's chart reads them: oldest first, with their lag.
    [ok_runs] = manager.recent_runs([ok.id], SYSTEM, limit=100).values()
    assert [(r.trigger, r.start_lag_ms, r.duration_ms) for r in ok_runs] == [
        ("schedule", 1000, 0),
        ("schedule", 2000, 0),
        ("manual", 30000, 0),
        ("schedule", 3000, 0),
    ]
    assert manager.recent_runs([ok.id, bad.id], _admin_of(acme), limit=20).keys() == {bad.id}
    with pytest.raises(ValueError, match="limit must be from 1 to 100"):
        manager.recent_runs([ok.id], SYSTEM, limit=101)


def test_the_pictures_read_the_run_table_through_an_index(
    store: SqlStore, insert_rows: InsertRows
) -> None:
    """With a long history (100 jobs with 100 runs each, 10 minutes apart), each job's recent
    runs are an index walk that stops early, and the last hour a range of
    ix_cron_job_run_started: never a scan of the whole table."""
    jobs = [_job_row(f"job {i}") for i in range(100)]
    insert_rows(cron_job, jobs)
    slots = [START + timedelta(minutes=10 * i) for i in range(100)]
    insert_rows(cron_job_run, [_run_row(job, slot, "succeeded") for job in jobs for slot in slots])
    with store.transaction() as conn:
        conn.exec_driver_sql("ANALYZE")

    reads = {
        "ix_cron_job_run_slots": lambda: store.recent_runs([j["id"] for j in jobs[:50]], limit=20),
        "ix_cron_job_run_started": lambda: store.minute_activity(slots[-1] - timedelta(minutes=59)),
    }
    for index, read in reads.items():
        with statements_on(store) as sent:
            read()
        [(statement, parameters)] = [(s, p) for s, p in sent if "cron_job_run" in s]
        explain = "EXPLAIN" if store.dialect == "postgresql" else "EXPLAIN QUERY PLAN"
        with store.reading() as conn:
            rows = conn.exec_driver_sql(f"{explain} {statement}", parameters)
            plan = "\n".join(str(row[-1]) for row in rows)
        assert index in plan, plan
        assert "Seq Scan on cron_job_run" not in plan, plan  # PostgreSQL
        assert "SCAN cron_job_run" not in plan.replace("SCAN cron_job_run USING", ""), plan
