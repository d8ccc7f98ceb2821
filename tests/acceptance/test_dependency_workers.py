"""Chains of jobs run by real worker processes on PostgreSQL: exactly one run per link however
many workers, each after its upstream, and nothing lost when a worker is SIGKILLed between an
upstream's end and its dependent's run."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa

from cronbase.job_fields import Dependency
from cronbase.store import SqlStore
from cronbase.store.tables import cron_job, cron_job_run
from tests.acceptance.processes import (
    WAIT,
    count,
    start_workers,
    statuses,
    stop,
    wait_started,
)
from tests.helpers import run_history, wait_until

HOUR = timedelta(hours=1)


def add_chains(store: SqlStore, chains: int, **upstream: Any) -> list[tuple[UUID, UUID, UUID]]:
    """`chains` chains A -> B -> C: A on a yearly schedule (the test makes it due), B and C
    on_demand, each after the one before; (A, B, C) ids per chain."""
    made = []
    for i in range(chains):
        far = datetime.now(UTC) + HOUR  # due only when the test says
        a = store.insert_job(
            {"name": f"A{i}", "schedule": "cron:0 0 1 1 *", "function_name": "slowNoop",
             "next_run": far, "metadata": {"sleep": 0}, **upstream}
        )  # fmt: skip
        links = [a.id]
        for name in ("B", "C"):
            job = store.insert_job(
                {"name": f"{name}{i}", "schedule": "on_demand", "function_name": "slowNoop",
                 "next_run": None, "metadata": {"sleep": 0}, "max_attempts": 2,
                 "retry_delay_seconds": 1, "depends_on": [Dependency(links[-1])]}
            )  # fmt: skip
            links.append(job.id)
        made.append((links[0], links[1], links[2]))
    return made


def make_due(store: SqlStore, job_ids: list[UUID]) -> None:
    with store.transaction() as conn:
        conn.execute(
            cron_job.update()
            .where(cron_job.c.id.in_(job_ids))
            .values(next_run=datetime.now(UTC) - timedelta(seconds=1))
        )


def unfinished(store: SqlStore) -> int:
    return count(store, cron_job_run.c.status.in_(["pending", "running"]))


def check_chains(store: SqlStore, chains: list[tuple[UUID, UUID, UUID]]) -> None:
    """Every link ran exactly once to success, after the run of the link before it, which it
    names in triggered_by."""
    succeeded: dict[UUID, list[Any]] = defaultdict(list)
    for run in run_history(store):
        if run.status == "succeeded":
            succeeded[run.job_id].append(run)
    for chain in chains:
        runs = [succeeded[job_id] for job_id in chain]
        assert [len(r) for r in runs] == [1, 1, 1], runs
        a, b, c = (r[0] for r in runs)
        assert b.triggered_by == [str(a.id)]
        assert c.triggered_by == [str(b.id)]
        assert a.finished_at <= b.started_at
        assert b.finished_at <= c.started_at
        assert a.scheduled_for == b.scheduled_for == c.scheduled_for


@pytest.mark.postgres
@pytest.mark.timeout(300)
def test_four_workers_run_200_chains_of_three_as_exactly_600_runs(
    postgres_url: str, tmp_path: Path
) -> None:
    store = SqlStore.from_url(postgres_url)
    chains = add_chains(store, 200)
    workers = start_workers(postgres_url, 4, tmp_path / "logs", CRONBASE_WORKER_LEASE_SECONDS="30")
    try:
        wait_started(tmp_path / "logs", 4)  # else the first up may do all 600 runs
        started = time.monotonic()
        make_due(store, [a for a, _, _ in chains])
        wait_until(
            lambda: count(store) == 600 and unfinished(store) == 0,
            what="the 600 runs of the 200 chains to end",
            timeout=120,
            state=lambda: statuses(store),
        )
        took = time.monotonic() - started
    finally:
        outputs = stop(workers, tmp_path / "logs")
        history = run_history(store)
        store.close()
    assert [w.returncode for w in workers] == [0] * 4, outputs
    assert Counter(run.status for run in history) == {"succeeded": 600}
    assert Counter(run.trigger for run in history) == {"schedule": 200, "dependency": 400}
    check = SqlStore.from_url(postgres_url)
    try:
        check_chains(check, chains)
    finally:
        check.close()
    busy = sum("run succeeded" in output for output in outputs)
    assert busy >= 2, "the work was not shared between workers"
    print(f"200 chains of three, 4 workers: 600 runs in {took:.1f}s")  # noqa: T201


@pytest.mark.postgres
@pytest.mark.timeout(300)
def test_a_worker_killed_between_upstream_and_downstream_loses_no_run(
    postgres_url: str, tmp_path: Path
) -> None:
    store = SqlStore.from_url(postgres_url)
    chains = add_chains(store, 20, max_attempts=2, retry_delay_seconds=1)
    a_ids = [a for a, _, _ in chains]
    [victim] = start_workers(postgres_url, 1, tmp_path / "logs")
    survivor = None
    try:
        make_due(store, a_ids)
        upstream_done = cron_job_run.c.job_id.in_(a_ids) & (cron_job_run.c.status == "succeeded")
        wait_until(
            lambda: count(store, upstream_done) >= 1,
            what="the victim to record a first upstream run",
            timeout=WAIT,
            interval=0.005,
        )
        victim.kill()  # SIGKILL: right after an upstream was recorded, its dependent not yet run
        victim.wait()
        with store.reading() as conn:
            queued = conn.execute(
                sa.select(sa.func.count())
                .select_from(cron_job_run)
                .where(cron_job_run.c.trigger == "dependency")
            ).scalar_one()
        assert queued >= 1  # the dependent's run was written with the upstream's ending
        [survivor] = start_workers(postgres_url, 1, tmp_path / "logs")
        wait_until(
            lambda: (
                count(store, cron_job_run.c.status == "succeeded") == 60 and unfinished(store) == 0
            ),
            what="every chain to finish under the survivor",
            timeout=120,
            state=lambda: statuses(store),
        )
        check_chains(store, chains)
    finally:
        victim.kill()
        stop([survivor] if survivor else [], tmp_path / "logs")
        store.close()
