"""Rows written by plain SQL, as the seed's own INSERTs and a host application's scripts write
them, behave like rows cronbase writes: on SQLite as on PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from cronbase.registry import JobContext, JobRegistry
from cronbase.runner import Runner
from cronbase.store import SqlStore
from cronbase.store.migrate import _config
from cronbase.testing import FakeClock

DUE_AT = datetime(2026, 11, 30, 15, 1, 20, tzinfo=UTC)
# The same instant as plain SQL may write it; SQLite keeps the text as given.
SPELLINGS = [
    "2026-11-30T15:01:20+00:00",
    "2026-11-30T17:01:20+02:00",
    "2026-11-30T10:01:20-05:00",
    "2026-11-30T15:01:20Z",
    "2026-11-30T15:01:20.000+00:00",
    "2026-11-30 15:01:20",
    "2026-11-30 15:01:20.000000",
]


def _insert_job(store: SqlStore, next_run: str, name: str = "Plain") -> uuid.UUID:
    with store.transaction() as conn:
        return conn.execute(
            sa.text(
                "INSERT INTO cron_job (name, schedule, function_name, is_active, next_run)"
                " VALUES (:name, 'hourly', 'plain', true, :next_run) RETURNING id"
            ),
            {"name": name, "next_run": next_run},
        ).scalar_one()


@pytest.mark.parametrize("next_run", SPELLINGS)
def test_a_next_run_written_by_plain_sql_falls_due_at_its_instant(
    store: SqlStore, next_run: str
) -> None:
    job_id = uuid.UUID(str(_insert_job(store, next_run)))
    [job] = store.list_jobs()
    assert job.next_run == DUE_AT  # read back as the instant it names
    assert store.earliest_next_run() == DUE_AT
    assert store.due_jobs(DUE_AT - timedelta(milliseconds=1)) == {}
    assert store.due_jobs(DUE_AT) == {job_id: None}
    assert store.due_jobs(DUE_AT + timedelta(minutes=7)) == {job_id: None}
    assert store.due_count(DUE_AT + timedelta(minutes=7)) == 1
    # overdue once its grace (600 s by default) has passed, whatever the spelling
    assert store.overdue_jobs(DUE_AT + timedelta(minutes=10)) == []
    assert [j.id for j in store.overdue_jobs(DUE_AT + timedelta(minutes=11))] == [job_id]


def test_plain_sql_next_runs_are_claimed_in_time_order_and_run(
    store: SqlStore, clock: FakeClock
) -> None:
    calls: list[str] = []
    registry = JobRegistry()

    @registry.job("plain")
    def plain(ctx: JobContext) -> dict[str, Any]:
        calls.append(ctx.scheduled_for.isoformat())
        return {}

    # As text, "...T15:02" sorts after "... 15:30": the order must come from the instants.
    _insert_job(store, "2026-11-30T15:02:00+00:00", name="first")
    _insert_job(store, "2026-11-30 15:30:00.000000", name="second")
    clock.set(DUE_AT + timedelta(minutes=44))  # before 16:00, the next slot of both
    summary = Runner(store, registry, clock, worker_id="w", concurrency=1).run_due()
    assert [item["name"] for item in summary.executed] == ["first", "second"]
    assert calls == ["2026-11-30T15:02:00+00:00", "2026-11-30T15:30:00+00:00"]


@pytest.mark.parametrize("table", ["tenants", "cron_job"])
def test_ids_generated_by_the_database_are_version_4_uuids(store: SqlStore, table: str) -> None:
    columns = {
        "tenants": "(name) VALUES ('t')",
        "cron_job": "(name, schedule, function_name) VALUES ('j', 'hourly', 'f')",
    }[table]
    with store.transaction() as conn:
        ids = [
            conn.execute(sa.text(f"INSERT INTO {table} {columns} RETURNING id")).scalar_one()
            for _ in range(50)
        ]
    for value in ids:
        generated = value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
        assert generated.version == 4, generated
        assert generated.variant == uuid.RFC_4122, generated
    assert len(set(ids)) == 50


def _migrate(store: SqlStore, revision: str, *, down: bool = False) -> None:
    config = _config()
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(config, revision)


def _sqlite_tenants_ddl(store: SqlStore) -> str:
    if store.dialect != "sqlite":
        return ""
    with store.reading() as conn:
        query = "SELECT sql FROM sqlite_master WHERE name = 'tenants'"
        return str(conn.exec_driver_sql(query).scalar_one())


def test_migration_0006_goes_down_and_up_keeping_the_rows(store: SqlStore) -> None:
    _insert_job(store, "2026-11-30T15:01:20+00:00")
    _migrate(store, "0005", down=True)
    if store.dialect == "sqlite":  # as 0001 to 0005 left it: 128 random bits
        assert "DEFAULT (lower(hex(randomblob(16))))" in _sqlite_tenants_ddl(store)

    _migrate(store, "head")
    assert "randomblob(16)" not in _sqlite_tenants_ddl(store)
    assert store.due_jobs(DUE_AT) != {}
    assert [job.name for job in store.list_jobs()] == ["Plain"]
    test_ids_generated_by_the_database_are_version_4_uuids(store, "tenants")
