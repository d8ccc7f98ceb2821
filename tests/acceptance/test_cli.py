"""The `cronbase` command, run as a user runs it: in a subprocess, against a real database."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cronbase.store import SqlStore
from tests.acceptance.cli import cli_command, cli_env
from tests.acceptance.conftest import Cli


def test_migrate_twice_then_seed_twice(cli: Cli) -> None:
    first = cli("migrate")
    assert first.returncode == 0, first.stderr
    assert "schema is at" in first.stdout  # the fixture's database is migrated already

    seeded = cli("seed")
    assert seeded.returncode == 0, seeded.stderr
    assert seeded.stdout.count("created") == 3
    again = cli("seed")
    assert "nothing changed" in again.stdout


def test_commands_refuse_a_database_that_is_behind(tmp_path: Path) -> None:
    env = cli_env(f"sqlite:///{tmp_path / 'new.db'}")
    refused = subprocess.run(
        cli_command("run-due"), env=env, capture_output=True, text=True, check=False
    )
    assert refused.returncode == 2
    assert "run `cronbase migrate`" in refused.stderr

    migrated = subprocess.run(
        cli_command("migrate"), env=env, capture_output=True, text=True, check=False
    )
    assert migrated.returncode == 0, migrated.stderr
    assert "migrated schema None -> " in migrated.stdout


def test_jobs_add_rejects_bad_input_with_actionable_messages(cli: Cli, store: SqlStore) -> None:
    result = cli(
        "jobs",
        "add",
        "--name",
        "x",
        "--schedule",
        "cron:0 25 * * *",
        "--function",
        "nope",
        "--timezone",
        "Europe/Atlantis",
    )
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    [schedule] = [line for line in lines if line.startswith("error: schedule:")]
    assert "0-23" in schedule
    [zone] = [line for line in lines if line.startswith("error: timezone:")]
    assert "Europe/Atlantis" in zone
    [function] = [line for line in lines if line.startswith("error: function_name: 'nope'")]
    assert "slowNoop" in function
    assert store.list_jobs() == []


def test_jobs_add_list_and_run_due(cli: Cli, store: SqlStore) -> None:
    added = cli(
        "jobs",
        "add",
        "--name",
        "Sample",
        "--schedule",
        "every_5_minutes",
        "--function",
        "slowNoop",
        "--metadata",
        '{"sleep": 0}',
    )
    assert added.returncode == 0, added.stderr
    job = json.loads(added.stdout)
    assert job["function_name"] == "slowNoop"
    listed = cli("jobs", "list", "--json")
    assert [j["id"] for j in json.loads(listed.stdout)["jobs"]] == [job["id"]]

    [stored] = store.list_jobs()
    with store.transaction() as conn:  # make it due now rather than waiting for the slot
        from cronbase.store.tables import cron_job

        conn.execute(cron_job.update().values(next_run=datetime.now(UTC) - timedelta(seconds=1)))
    ran = cli("run-due")
    assert ran.returncode == 0, ran.stderr
    data = json.loads(ran.stdout)
    assert data["summary"] == {"total": 1, "executed": 1, "skipped": 0, "failed": 0}
    assert data["executed"][0]["id"] == str(stored.id)
    assert "run succeeded: Sample (slowNoop)" in ran.stderr


def test_schedule_preview_describes_and_lists_fire_times(cli: Cli) -> None:
    result = cli("schedule", "preview", "cron:0 2 * * *", "--count", "3")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "02:00" in lines[0]
    assert len(lines) == 4
    assert all(line.endswith("T02:00:00Z") for line in lines[1:])


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_worker_runs_due_jobs_and_stops_cleanly_on_a_signal(
    database_url: str, store: SqlStore, signum: int
) -> None:
    store.insert_job(
        {
            "name": "Now",
            "schedule": "every_5_minutes",
            "function_name": "slowNoop",
            "metadata": {"sleep": 1.0},
            "next_run": datetime.now(UTC) - timedelta(seconds=1),
        }
    )
    worker = subprocess.Popen(
        cli_command("worker"), env=cli_env(database_url), stderr=subprocess.PIPE, text=True
    )
    assert worker.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until the job has started
        runs = store.list_runs(store.list_jobs()[0].id)
        if runs:
            break
        time.sleep(0.05)
    worker.send_signal(signum)
    _, stderr = worker.communicate(timeout=30)

    assert worker.returncode == 0, stderr
    assert "finishing the run in progress" in stderr
    assert "run succeeded: Now (slowNoop)" in stderr  # the run in progress was finished
    [run] = store.list_runs(store.list_jobs()[0].id)
    assert run.status == "succeeded"
