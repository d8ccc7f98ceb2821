"""Migrations: one set of files for both databases, equal to the table definitions."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.dialects import sqlite
from sqlalchemy.schema import CreateIndex

import cronbase.builtin.tables  # noqa: F401  (adds the host CRM tables to `metadata`)
from cronbase.errors import SchemaOutOfDate
from cronbase.listing import RunQuery
from cronbase.store import SqlStore, create_engine
from cronbase.store.claim_queries import select_claimable
from cronbase.store.migrate import (
    MIGRATIONS,
    check_schema,
    current_revision,
    head_revision,
    upgrade,
)
from cronbase.store.rows import due
from cronbase.store.tables import (
    SEARCH_PIECES_INDEX,
    SEARCH_TRIGRAM_INDEX,
    cron_job,
    cron_job_run,
    metadata,
)


def test_the_migrated_schema_equals_the_table_definitions(store: SqlStore) -> None:
    with store.engine.connect() as conn, warnings.catch_warnings():
        # SQLAlchemy cannot reflect SQLite's indexes on expressions: the next test checks them.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression")
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    # The trigram index of the jobs list's name search is made where pg_trgm can be had; the
    # index of its short searches on PostgreSQL.
    own = (SEARCH_TRIGRAM_INDEX, SEARCH_PIECES_INDEX)
    optional = [d for d in diff if d[0] == "remove_index" and d[1].name in own]
    assert [d for d in diff if d not in optional] == []


def test_every_migrated_sqlite_index_is_the_one_the_tables_define(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    with engine.connect() as conn:
        migrated = dict(
            conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            ).all()
        )
    engine.dispose()
    defined = {
        index.name: str(CreateIndex(index).compile(dialect=sqlite.dialect())).strip()
        for table in metadata.tables.values()
        for index in table.indexes
    }
    assert migrated == defined


@pytest.mark.postgres
def test_cron_job_pages_keep_room_for_the_updates_of_each_run(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    with engine.connect() as conn:
        options = conn.exec_driver_sql(
            "SELECT reloptions FROM pg_class WHERE relname = 'cron_job'"
        ).scalar_one()
    engine.dispose()
    assert options == ["fillfactor=70"]


def test_migrate_is_safe_to_run_twice(store: SqlStore) -> None:
    assert upgrade(store.engine) == (head_revision(), head_revision())
    check_schema(store.engine)


def test_the_schema_check_reads_the_revisions_as_alembic_does(store: SqlStore) -> None:
    # check_schema reads the head from the files' names and the database's revision with one
    # SELECT, without loading alembic: both must say what alembic says, or a database a
    # revision behind would pass the check.
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    scripts = ScriptDirectory.from_config(config)
    assert head_revision() == scripts.get_current_head()
    for script in scripts.walk_revisions():
        assert Path(script.path).name.startswith(f"{script.revision}_"), script.path
    with store.engine.connect() as conn:
        assert (
            current_revision(store.engine)
            == MigrationContext.configure(conn).get_current_revision()
        )
    behind = f"{int(head_revision()) - 1:04d}"
    set_revision = "UPDATE alembic_version SET version_num = :revision"
    with store.engine.begin() as conn:
        conn.execute(sa.text(set_revision), {"revision": behind})
    try:
        with pytest.raises(SchemaOutOfDate, match=f"has schema revision {behind} but this"):
            check_schema(store.engine)
    finally:
        with store.engine.begin() as conn:
            conn.execute(sa.text(set_revision), {"revision": head_revision()})


def test_an_empty_database_is_refused_with_the_command_to_run(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(SchemaOutOfDate, match="run `cronbase migrate`"):
        check_schema(engine)
    assert upgrade(engine) == (None, head_revision())
    assert current_revision(engine) == head_revision()
    engine.dispose()


@pytest.mark.postgres
def test_the_seeds_own_insert_works_as_written(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO cron_job (name, schedule, function_name, is_active, next_run, metadata)"
                " VALUES (:name, :schedule, :function_name, :is_active, :next_run, :metadata)"
            ),
            {
                "name": "My New Job",
                "schedule": "hourly",
                "function_name": "myNewJob",
                "is_active": True,
                "next_run": "2025-01-15T10:30:00Z",
                "metadata": json.dumps({"my_config": "value"}),
            },
        )
    [job] = SqlStore(engine).list_jobs()
    assert job.name == "My New Job"
    assert job.timezone == "UTC"
    assert job.metadata == {"my_config": "value"}
    assert job.created_at.tzinfo is not None
    engine.dispose()


def test_timestamps_come_back_aware_utc_and_naive_ones_are_refused(store: SqlStore) -> None:
    values = {"name": "j", "schedule": "hourly", "function_name": "f"}
    plus_two = timezone(timedelta(hours=2))
    job = store.insert_job({**values, "next_run": datetime(2025, 1, 15, 12, 0, tzinfo=plus_two)})
    assert job.next_run == datetime(2025, 1, 15, 10, 0, tzinfo=UTC)
    assert job.next_run is not None
    assert job.next_run.utcoffset() == timedelta(0)
    assert job.created_at.tzinfo is not None  # the server default, read back aware

    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        store.insert_job({**values, "next_run": datetime(2025, 1, 15, 12, 0)})


def _plan(store: SqlStore, query: sa.Select[Any]) -> str:
    with store.engine.connect() as conn:
        compiled = query.compile(conn, compile_kwargs={"literal_binds": True})
        explain = "EXPLAIN" if store.dialect == "postgresql" else "EXPLAIN QUERY PLAN"
        return "\n".join(str(r[-1]) for r in conn.exec_driver_sql(f"{explain} {compiled}"))


def _jobs(store: SqlStore, count: int, due: int) -> datetime:
    """`count` jobs, the first `due` of them due at the instant returned; statistics fresh."""
    now = datetime(2025, 1, 1, tzinfo=UTC)
    rows = [
        {
            "name": f"j{i}",
            "schedule": "daily",
            "function_name": "f",
            "priority": i % 3,
            "next_run": now - timedelta(seconds=1) if i < due else now + timedelta(seconds=i),
        }
        for i in range(count)
    ]
    with store.transaction() as conn:
        conn.execute(cron_job.insert(), rows)
    with store.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    return now


def test_the_due_job_query_reads_the_due_index(store: SqlStore) -> None:
    now = _jobs(store, 5000, due=0)
    query = sa.select(cron_job.c.id).where(due(now))  # the query the store runs
    plan = _plan(store, query)
    # Where every job is active, the list's index on next_run is as small and as good: either
    # reads only the due range (with paused jobs, the partial ix_cron_job_due is smaller).
    assert "ix_cron_job_due" in plan or "ix_cron_job_next_run_order" in plan, plan
    assert "Seq Scan" not in plan, plan


def test_a_claim_in_a_burst_walks_the_claim_index_without_sorting(store: SqlStore) -> None:
    now = _jobs(store, 5000, due=5000)
    plan = _plan(store, select_claimable(now, 500, dialect=store.dialect))
    assert "ix_cron_job_claim" in plan, plan
    assert "Sort" not in plan, plan  # PostgreSQL
    assert "TEMP B-TREE" not in plan, plan  # SQLite


def test_a_claim_walks_the_claim_index_even_with_statistics_older_than_the_burst(
    store: SqlStore,
) -> None:
    # Statistics taken while no job was due, then every job falls due (a burst the last
    # ANALYZE did not see): the claim must not read and sort every due job.
    now = _jobs(store, 5000, due=0)
    with store.transaction() as conn:
        conn.execute(cron_job.update().values(next_run=now - timedelta(seconds=1)))
    plan = _plan(store, select_claimable(now, 500, dialect=store.dialect))
    assert "ix_cron_job_claim" in plan, plan
    assert "Sort" not in plan, plan  # PostgreSQL
    assert "TEMP B-TREE" not in plan, plan  # SQLite


def test_a_jobs_runs_of_a_rare_status_read_the_index_of_unsuccessful_runs(
    store: SqlStore,
) -> None:
    job = store.insert_job({"name": "busy", "schedule": "daily", "function_name": "f"})
    start = datetime(2025, 1, 1, tzinfo=UTC)
    rows = [
        {
            "job_id": job.id,
            "scheduled_for": start + timedelta(minutes=i),
            "status": "timed_out" if i % 1000 == 0 else "succeeded",
        }
        for i in range(3000)
    ]
    with store.transaction() as conn:
        conn.execute(cron_job_run.insert(), rows)
    with store.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    issued: list[tuple[str, Any]] = []

    def capture(_c: Any, _cur: Any, statement: str, params: Any, *_rest: Any) -> None:
        issued.append((statement, params))

    sa.event.listen(store.engine, "before_cursor_execute", capture)
    try:
        found = store.list_runs(job.id, RunQuery(status="timed_out", limit=51))
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", capture)
    assert [run.scheduled_for for run in found] == [
        start + timedelta(minutes=i) for i in (2000, 1000, 0)
    ]
    statement, params = issued[-1]
    explain = "EXPLAIN" if store.dialect == "postgresql" else "EXPLAIN QUERY PLAN"
    with store.engine.connect() as conn:
        plan = "\n".join(str(r[-1]) for r in conn.exec_driver_sql(f"{explain} {statement}", params))
    assert "ix_cron_job_run_unsuccessful" in plan, plan
