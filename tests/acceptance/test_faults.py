"""Fault injection with real worker processes: many rounds, and a worker killed mid-run.

Rounds do not wait for wall-clock minutes: between rounds the test moves every job's next_run
into the past.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from cronbase.store import SqlStore
from cronbase.store.tables import cron_job, cron_job_run
from cronbase.store.workers import WorkerStore
from tests.acceptance.cli import add_job
from tests.acceptance.processes import WAIT, count, start_workers, statuses, stop
from tests.helpers import run_history, wait_until

ONE_MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
# Each test's time limit (@pytest.mark.timeout) is the sum of its own waits (WAIT each, and up
# to 60 s to stop the workers) plus a margin: a slow step fails at its wait, naming what it
# waited for; the limit only catches a stall outside every wait.


@pytest.mark.timeout(720)  # four rounds of up to 120 s, then up to 60 s a worker to stop
def test_every_slot_runs_exactly_once_over_many_rounds(
    store: SqlStore, database_url: str, tmp_path: Path
) -> None:
    jobs, rounds = 300, 4
    workers_count = 4 if store.dialect == "postgresql" else 2
    for i in range(jobs):  # only the rounds make them due
        add_job(store, f"job {i}", metadata={"sleep": 0}, next_run=datetime.now(UTC) + HOUR)
    # A lease far longer than a turn of the loop: on a busy SQLite file a turn can wait seconds
    # for the write lock, and a lapsed lease would (rightly) be recorded abandoned.
    workers = start_workers(
        database_url, workers_count, tmp_path / "logs", CRONBASE_WORKER_LEASE_SECONDS="30"
    )
    try:
        for round_number in range(1, rounds + 1):
            with store.transaction() as conn:  # every job due now, at a slot of its own
                conn.execute(
                    cron_job.update().values(next_run=datetime.now(UTC) - timedelta(seconds=1))
                )
            wait_until(
                lambda n=round_number: (
                    count(store) == jobs * n
                    and count(store, cron_job_run.c.status == "running") == 0
                ),
                what=f"every run of round {round_number} to end",
                timeout=120,
                state=lambda n=round_number: (n, statuses(store)),
            )
    finally:
        outputs = stop(workers, tmp_path / "logs")
    assert [w.returncode for w in workers] == [0] * workers_count, outputs
    slots = [(run.job_id, run.scheduled_for, run.status) for run in run_history(store)]
    assert len(slots) == jobs * rounds
    assert len({(job, slot) for job, slot, _ in slots}) == jobs * rounds  # no duplicate
    assert {status for _, _, status in slots} == {"succeeded"}  # none lost or stuck
    if store.dialect == "postgresql":  # SQLite serializes claims; one worker may take them all
        busy = sum("run succeeded" in output for output in outputs)
        assert busy >= 2, "the work was not shared between workers"


@pytest.mark.postgres
@pytest.mark.timeout(300)
def test_a_killed_workers_run_is_abandoned_after_its_lease_and_retried(
    postgres_url: str, tmp_path: Path
) -> None:
    store = SqlStore.from_url(postgres_url)
    add_job(
        store,
        "Long",
        metadata={"sleep": 60, "retry_sleep": 0},
        max_attempts=2,
        retry_delay_seconds=1,
    )
    [victim] = start_workers(postgres_url, 1, tmp_path / "logs")
    survivor = None
    try:
        wait_until(
            lambda: count(store, cron_job_run.c.status == "running") == 1,
            what="the victim to start the run",
            timeout=WAIT,
        )
        [survivor] = start_workers(postgres_url, 1, tmp_path / "logs")  # after the victim claimed
        victim.kill()  # SIGKILL: no chance to record anything
        victim.wait()
        recovery = wait_until(
            lambda: count(store, cron_job_run.c.status == "abandoned") == 1,
            what="the survivor to record the victim's run abandoned",
            timeout=WAIT,
        )
        wait_until(
            lambda: count(store, cron_job_run.c.status == "succeeded") == 1,
            what="the retry to succeed",
            timeout=WAIT,
        )
        attempts = run_history(store)  # one job, one slot: in attempt order
    finally:
        victim.kill()
        stop([survivor] if survivor else [], tmp_path / "logs")
        store.close()
    # The lease (2 s) plus a turn of the survivor's loop; generous, as CI machines are shared.
    assert recovery < 20, f"recovered after {recovery:.1f}s"
    # The slot ran again only as a second attempt, after the first was recorded abandoned.
    assert [(a.attempt, a.status) for a in attempts] == [(1, "abandoned"), (2, "succeeded")]
    assert attempts[1].started_at >= attempts[0].finished_at


def _slow_jobs(store: SqlStore, count: int, sleep: float) -> None:
    for i in range(count):
        add_job(store, f"slow {i}", metadata={"sleep": sleep})


def _check_every_job_ran_once(store: SqlStore, jobs: int) -> None:
    rows = [(run.job_id, run.status) for run in run_history(store)]
    assert len(rows) == jobs, statuses(store)
    assert len({job_id for job_id, _ in rows}) == jobs  # no job ran twice
    assert {status for _, status in rows} == {"succeeded"}  # none lost, stuck or abandoned


def _terminate_connections(admin_url: str, database: str | None) -> int:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        killed = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchone()
    return int(killed[0]) if killed else 0


@pytest.mark.postgres
@pytest.mark.timeout(420)
def test_workers_recover_when_their_connections_are_terminated(
    postgres_url: str, postgres_admin_url: str, tmp_path: Path
) -> None:
    jobs = 40
    store = SqlStore.from_url(postgres_url)
    _slow_jobs(store, jobs, sleep=0.3)
    workers = start_workers(postgres_url, 2, tmp_path / "logs", CRONBASE_WORKER_LEASE_SECONDS="30")
    try:
        # Both workers up (a worker that cannot reach its database at start exits, by design),
        # and runs going.
        wait_until(
            lambda: len(WorkerStore(store.engine).live(datetime.now(UTC), ONE_MINUTE)) == 2,
            what="both workers to be up",
            timeout=WAIT,
        )
        wait_until(
            lambda: count(store, cron_job_run.c.status == "running") > 0,
            what="runs to start",
            timeout=WAIT,
        )
        killed = 0

        def cut_connections_until_half_succeeded() -> bool:
            nonlocal killed
            if count(store, cron_job_run.c.status == "succeeded") >= jobs // 2:
                return True
            killed += _terminate_connections(postgres_admin_url, sa.make_url(postgres_url).database)
            return False

        wait_until(
            cut_connections_until_half_succeeded,
            what="half the runs to succeed while connections are cut",
            timeout=WAIT,
            interval=0.2,
            state=lambda: statuses(store),
        )
        wait_until(
            lambda: count(store, cron_job_run.c.status == "succeeded") == jobs,
            what="every run to succeed",
            timeout=WAIT,
            state=lambda: statuses(store),
        )
    finally:
        outputs = stop(workers, tmp_path / "logs")
    _check_every_job_ran_once(store, jobs)
    store.close()
    assert killed > 0
    assert [w.returncode for w in workers] == [0, 0], outputs


@pytest.mark.postgres
@pytest.mark.timeout(480)  # also the cluster stopped and started (up to 60 s each)
def test_results_that_end_while_postgresql_is_down_are_recorded_after_it_restarts(
    postgres_url: str, tmp_path: Path
) -> None:
    jobs = 12
    store = SqlStore.from_url(postgres_url)
    _slow_jobs(store, jobs, sleep=1.0)
    workers = start_workers(
        postgres_url,
        2,
        tmp_path / "logs",
        CRONBASE_WORKER_LEASE_SECONDS="60",
        CRONBASE_WORKER_CONCURRENCY=str(jobs // 2),
    )
    try:
        # Half the runs each: both workers are up and hold runs when the database goes.
        wait_until(
            lambda: count(store, cron_job_run.c.status == "running") == jobs,
            what="every run to start",
            timeout=WAIT,
        )
        _postgresql("stop")
        try:
            time.sleep(2.5)  # the outage itself: long enough that every run ends during it
        finally:
            _postgresql("start")
        recovery = wait_until(
            lambda: count(store, cron_job_run.c.status == "succeeded") == jobs,
            what="every result to be recorded after the restart",
            timeout=WAIT,
            state=lambda: statuses(store),
        )
    finally:
        outputs = stop(workers, tmp_path / "logs")
    _check_every_job_ran_once(store, jobs)
    store.close()
    kept = sum(int(n) for log in outputs for n in re.findall(r"(\d+) result\(s\) kept", log))
    assert kept > 0, "no result was ever held back: the outage was not observed"
    assert recovery < 30, f"recorded {recovery:.1f}s after the restart"
    assert [w.returncode for w in workers] == [0, 0], outputs


def _postgresql(action: str) -> None:
    """Stop or start the local cluster (the one the tests use), as CI's scripts do."""
    [version] = os.listdir("/etc/postgresql")
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action]
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    if action == "start":
        subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-t", "30"], check=True, timeout=60)


@pytest.mark.postgres
@pytest.mark.timeout(240)
def test_a_hung_job_times_out_and_a_failing_one_is_retried_while_the_others_run_on_time(
    postgres_url: str, tmp_path: Path
) -> None:
    store = SqlStore.from_url(postgres_url)
    now = datetime.now(UTC)
    add_job(store, "hung", "neverReturns", timeout_seconds=2, priority=10, next_run=now)
    add_job(store, "failing", "alwaysFails", max_attempts=3, retry_delay_seconds=1, priority=10)
    for i in range(20):
        add_job(store, f"quick {i}", metadata={"sleep": 0.05}, next_run=now)
    workers = start_workers(
        postgres_url,
        1,
        tmp_path / "logs",
        CRONBASE_WORKER_CONCURRENCY="2",
        CRONBASE_SHUTDOWN_GRACE_SECONDS="1",
    )
    try:
        wait_until(
            lambda: (
                count(store, cron_job_run.c.status == "succeeded") == 20
                and count(store, cron_job_run.c.attempt == 3, cron_job_run.c.status == "failed")
                == 1
                and count(store, cron_job_run.c.status == "timed_out") == 1
            ),
            what="20 quick runs, 3 failed attempts and a timed-out run",
            timeout=WAIT,
            state=lambda: statuses(store),
        )
        rows = run_history(store)
    finally:
        outputs = stop(workers, tmp_path / "logs")
        store.close()
    by_name = {(row.job_name, row.attempt): row for row in rows}
    hung = by_name["hung", 1]
    assert (hung.status, hung.error) == ("timed_out", "timed out after 2s")
    assert 2 <= (hung.finished_at - hung.started_at).total_seconds() < 10
    failing = sorted(
        (a, row.status, row.error) for (n, a), row in by_name.items() if n == "failing"
    )
    assert failing == [(a, "failed", f"RuntimeError: attempt {a} failed") for a in (1, 2, 3)]
    # With two slots, one held by the hung job, the 20 quick ones still ran, one after another.
    quick = [row for (name, _), row in by_name.items() if name.startswith("quick")]
    assert {row.status for row in quick} == {"succeeded"}
    assert max(row.finished_at for row in quick) - now < timedelta(seconds=30)
    assert [w.returncode for w in workers] == [0], outputs


def _history(store: SqlStore) -> dict[str, list[Any]]:
    """Each job's run rows, by job name, in slot order."""
    history: dict[str, list[Any]] = {}
    for row in run_history(store):
        history.setdefault(row.job_name, []).append(row)
    return history


def _slots(rows: list[Any]) -> list[datetime]:
    """Every slot the rows stand for: a run's own slot, or each slot of a `missed` row."""
    slots = []
    for row in rows:
        if row.status == "missed":
            first = datetime.fromisoformat(row.result["first"])
            slots += [first + timedelta(minutes=i) for i in range(row.result["missed_slots"])]
        else:
            slots.append(row.scheduled_for)
    return slots


@pytest.mark.postgres
@pytest.mark.timeout(240)
def test_downtime_under_each_misfire_policy_with_a_real_worker(
    postgres_url: str, tmp_path: Path
) -> None:
    store = SqlStore.from_url(postgres_url)
    first = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=10)
    for policy in ("coalesce", "catch_up", "skip"):  # the worker was down for ten slots
        add_job(store, policy, schedule="cron:* * * * *", misfire_policy=policy, next_run=first)
    workers = start_workers(postgres_url, 1, tmp_path / "logs")
    try:
        wait_until(
            lambda: (
                all(job.next_run > datetime.now(UTC) for job in store.list_jobs())
                and count(store, cron_job_run.c.status == "running") == 0
            ),
            what="every job to catch up, as its policy says",
            timeout=WAIT,
            state=lambda: statuses(store),
        )
        history = _history(store)
    finally:
        outputs = stop(workers, tmp_path / "logs")
        store.close()
    assert [w.returncode for w in workers] == [0], outputs
    for rows in history.values():  # each slot accounted for once, none left out
        slots = _slots(rows)
        assert slots == [first + timedelta(minutes=i) for i in range(len(slots))]
        assert len(slots) >= 11
    coalesce, catch_up, skip = history["coalesce"], history["catch_up"], history["skip"]
    # coalesce: the newest slot ran for all of them; the earlier ones are one missed row.
    assert [r.status for r in coalesce[:2]] == ["missed", "succeeded"]
    assert coalesce[0].result["missed_slots"] >= 9
    # catch_up: every slot ran, oldest first.
    assert {r.status for r in catch_up} == {"succeeded"}
    starts = [r.started_at for r in catch_up]
    assert starts == sorted(starts)
    # skip: the late slots are one missed row; only a slot less than a minute late ran.
    assert skip[0].status == "missed"
    assert skip[0].result["missed_slots"] >= 9
    assert {r.status for r in skip[1:]} <= {"succeeded"}


@pytest.mark.postgres
@pytest.mark.timeout(240)
def test_a_long_run_under_each_overlap_policy_with_a_real_worker(
    postgres_url: str, tmp_path: Path
) -> None:
    store = SqlStore.from_url(postgres_url)
    for policy in ("skip", "allow", "queue"):
        add_job(store, policy, metadata={"sleep": 2}, overlap_policy=policy)
    workers = start_workers(postgres_url, 1, tmp_path / "logs")
    try:
        wait_until(
            lambda: count(store, cron_job_run.c.status == "running") == 3,
            what="the three runs to start",
            timeout=WAIT,
        )
        with store.transaction() as conn:  # the next slot falls due while the runs go on
            conn.execute(cron_job.update().values(next_run=datetime.now(UTC)))
        wait_until(
            lambda: (
                count(store, cron_job_run.c.status == "succeeded") == 5
                and count(store, cron_job_run.c.status == "skipped") == 1
            ),
            what="five runs to succeed and one to be skipped",
            timeout=WAIT,
            state=lambda: statuses(store),
        )
        history = _history(store)
    finally:
        outputs = stop(workers, tmp_path / "logs")
        store.close()
    assert [w.returncode for w in workers] == [0], outputs
    skip, allow, queue = history["skip"], history["allow"], history["queue"]
    assert [r.status for r in skip] == ["succeeded", "skipped"]
    assert "overlap policy skip" in skip[1].error
    assert [r.status for r in allow] == ["succeeded", "succeeded"]
    assert allow[1].started_at < allow[0].finished_at  # the two ran at the same time
    assert [r.status for r in queue] == ["succeeded", "succeeded"]
    assert queue[1].started_at >= queue[0].finished_at  # the second waited for the first
