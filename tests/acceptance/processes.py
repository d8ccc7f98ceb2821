"""Worker processes a test starts and stops, and the run counts it waits on.

For the tests that run several `cronbase worker` processes on one database: they start them
with fast settings, log each to a file, and stop them with SIGTERM as a user would.
"""

from __future__ import annotations

import signal
import subprocess
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

from cronbase.store import SqlStore
from cronbase.store.tables import cron_job_run
from tests.acceptance.cli import cli_command, cli_env
from tests.helpers import run_history, wait_until

FAST = {"CRONBASE_WORKER_MAX_SLEEP_SECONDS": "0.2", "CRONBASE_WORKER_LEASE_SECONDS": "2"}
WAIT = 60.0  # seconds a worker process may take to get somewhere, on a shared CI machine


def start_workers(
    database_url: str, count: int, logs: Path, **env_extra: str
) -> list[subprocess.Popen[str]]:
    """Start `count` workers logging to files in `logs` (a pipe nobody reads would fill up)."""
    env = cli_env(database_url, **{**FAST, **env_extra})
    logs.mkdir(exist_ok=True)
    workers = []
    for _ in range(count):
        with (logs / f"worker-{len(list(logs.iterdir()))}.log").open("w") as log:
            workers.append(subprocess.Popen(cli_command("worker"), env=env, stderr=log, text=True))
    return workers


def wait_started(logs: Path, count: int) -> None:
    """Wait until `count` workers logging to `logs` say they started: a loaded machine takes
    seconds to start one, and work made due before they are all up may be done by the first
    (one killed while starting exits -15, not 0)."""
    wait_until(
        lambda: sum(" started" in path.read_text() for path in logs.iterdir()) >= count,
        what=f"{count} workers to start",
        timeout=WAIT,
        state=lambda: [path.read_text()[-300:] for path in sorted(logs.iterdir())],
    )


def stop(workers: list[subprocess.Popen[str]], logs: Path) -> list[str]:
    """SIGTERM each worker and wait (60 s at most) for it to exit; every worker's log."""
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        worker.wait(timeout=60)
    return [path.read_text() for path in sorted(logs.iterdir())]


def statuses(store: SqlStore) -> dict[str, int]:
    return dict(Counter(run.status for run in run_history(store)))


def count(store: SqlStore, *where: sa.ColumnElement[bool]) -> int:
    with store.reading() as conn:
        query = sa.select(sa.func.count()).select_from(cron_job_run).where(*where)
        return int(conn.execute(query).scalar_one())


def end(processes: list[subprocess.Popen[str]], timeout: float = 30) -> None:
    """SIGTERM those still running, wait for each; SIGKILL one that takes over `timeout` s.

    For a test's `finally`: whatever happened, no process outlives the test.
    """
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
