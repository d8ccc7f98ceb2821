"""Several processes running due jobs at once: each (job, slot) runs exactly once."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta

from cronbase.store import SqlStore
from tests.acceptance.cli import add_job, cli_command, cli_env
from tests.helpers import run_history

JOBS = 200


def test_processes_racing_on_due_jobs_run_each_exactly_once(
    store: SqlStore, database_url: str
) -> None:
    processes = 4 if store.dialect == "postgresql" else 2
    due = datetime.now(UTC) - timedelta(minutes=1)
    for i in range(JOBS):
        add_job(store, f"job {i}", next_run=due)

    racers = [
        subprocess.Popen(
            cli_command("run-due"),
            env=cli_env(database_url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    outputs = [racer.communicate(timeout=120) for racer in racers]

    assert [racer.returncode for racer in racers] == [0] * processes, outputs
    summaries = [json.loads(stdout)["summary"] for stdout, _ in outputs]
    for summary in summaries:
        assert summary["total"] == summary["executed"] + summary["skipped"] + summary["failed"]
    assert sum(s["executed"] for s in summaries) == JOBS
    assert sum(s["failed"] for s in summaries) == 0
    rows = [(run.job_id, run.status) for run in run_history(store)]
    assert len(rows) == JOBS
    assert len({job_id for job_id, _ in rows}) == JOBS
    assert {status for _, status in rows} == {"succeeded"}
