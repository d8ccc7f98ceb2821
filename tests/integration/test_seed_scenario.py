"""The seed's own integration test, through run_due: stale presence goes offline, fresh stays."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from cronbase.builtin import BUILTIN_JOBS, DEFAULT_JOBS
from cronbase.builtin.tables import employees, users
from cronbase.jobs import isoformat
from cronbase.manager import JobManager
from cronbase.registry import JobRegistry
from cronbase.runner import Runner
from cronbase.store import SqlStore
from cronbase.testing import FakeClock


def presence(store: SqlStore, table: sa.Table) -> dict[str, dict[str, Any]]:
    with store.transaction() as conn:
        return {row.email: row.metadata for row in conn.execute(sa.select(table))}


def test_mark_users_offline_runs_from_the_seeded_job(
    store: SqlStore, clock: FakeClock, insert_rows: Any
) -> None:
    registry = JobRegistry(BUILTIN_JOBS)
    JobManager(store, registry, clock).seed_default_jobs(DEFAULT_JOBS)
    clock.advance(timedelta(minutes=5))  # the seeded job falls due
    stale = isoformat(clock.now() - timedelta(minutes=12))
    fresh = isoformat(clock.now() - timedelta(minutes=1))
    insert_rows(
        users,
        [
            {
                "email": "stale@x.test",
                "metadata": {"live_status": "online", "last_seen": stale, "theme": "dark"},
            },
            {"email": "fresh@x.test", "metadata": {"live_status": "online", "last_seen": fresh}},
        ],
    )
    insert_rows(
        employees,
        [
            {"email": "stale-1@x.test", "metadata": {"live_status": "online", "last_seen": stale}},
            {"email": "stale-2@x.test", "metadata": {"last_seen": stale}},
            {"email": "fresh@x.test", "metadata": {"live_status": "online", "last_seen": fresh}},
        ],
    )

    summary = Runner(store, registry, clock).run_due().to_dict()

    assert summary["summary"] == {"total": 1, "executed": 1, "skipped": 0, "failed": 0}
    assert summary["executed"][0]["function_name"] == "markUsersOffline"
    assert presence(store, users) == {
        "stale@x.test": {"live_status": "offline", "last_seen": stale, "theme": "dark"},
        "fresh@x.test": {"live_status": "online", "last_seen": fresh},
    }
    assert presence(store, employees) == {
        "stale-1@x.test": {"live_status": "offline", "last_seen": stale},
        "stale-2@x.test": {"live_status": "offline", "last_seen": stale},
        "fresh@x.test": {"live_status": "online", "last_seen": fresh},
    }
    job = next(j for j in store.list_jobs() if j.function_name == "markUsersOffline")
    [run] = store.list_runs(job.id)
    assert run.result == {
        "users_marked_offline": 1,
        "employees_marked_offline": 2,
        "total": 3,
        "unreadable_last_seen": 0,
    }
