"""`cronbase jobs show|edit|pause|resume|delete|run|history|next`, `--json` on the commands
that read, `--version`, a closed pipe, and run-due's exit status: run as a user runs them, in a
subprocess, against a real database (both)."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cronbase.listing import JOB_SORTS, JobQuery, parse_sort
from cronbase.store import SqlStore
from tests.acceptance.cli import add_job, cli_command, cli_env
from tests.acceptance.conftest import Cli


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def _added(cli: Cli, *options: str) -> dict[str, Any]:
    added = cli("jobs", "add", "--name", "Digest", "--function", "slowNoop", *options)
    return dict(json.loads(_ok(added)))


def test_show_edit_pause_resume_and_delete_a_job(cli: Cli, store: SqlStore) -> None:
    job = _added(cli, "--schedule", "hourly", "--metadata", '{"sleep": 0}')
    shown = _ok(cli("jobs", "show", job["id"]))
    assert "schedule                hourly" in shown
    assert json.loads(_ok(cli("jobs", "show", job["id"], "--json")))["job"] == job

    edited = json.loads(
        _ok(cli("jobs", "edit", job["id"], "--schedule", "daily", "--timeout-seconds", "30"))
    )
    assert (edited["schedule"], edited["timeout_seconds"], edited["name"]) == (
        "daily",
        30,
        "Digest",  # what was not given stays
    )
    cleared = json.loads(_ok(cli("jobs", "edit", job["id"], "--timeout-seconds", "null")))
    assert cleared["timeout_seconds"] is None

    refused = cli("jobs", "edit", job["id"], "--schedule", "cron:0 25 * * *")
    assert refused.returncode == 2
    assert "error: schedule: " in refused.stderr
    assert "0-23" in refused.stderr
    muted = json.loads(_ok(cli("jobs", "edit", job["id"], "--mute-for", "8h")))
    until = datetime.fromisoformat(muted["muted_until"]) - datetime.now(UTC)
    assert timedelta(hours=7, minutes=58) < until <= timedelta(hours=8)
    both = cli("jobs", "edit", job["id"], "--unmute", "--muted-until", "null")
    assert (both.returncode, both.stderr.strip()) == (
        2,
        "error: give one of --muted-until and --unmute, not both",
    )
    assert json.loads(_ok(cli("jobs", "edit", job["id"], "--unmute")))["muted_until"] is None
    nothing = cli("jobs", "edit", job["id"])
    assert (nothing.returncode, "nothing to change" in nothing.stderr) == (2, True)
    [stored] = store.list_jobs()
    assert stored.schedule == "daily"  # the refused edits changed nothing

    assert "paused Digest" in _ok(cli("jobs", "pause", job["id"]))
    assert store.list_jobs()[0].is_active is False
    paused_next = _ok(cli("jobs", "next", job["id"], "--count", "2")).splitlines()
    assert paused_next[0] == "paused: resumed now, it would run at"
    assert "resumed Digest" in _ok(cli("jobs", "resume", job["id"]))
    assert store.list_jobs()[0].is_active is True

    assert "deleted Digest" in _ok(cli("jobs", "delete", job["id"]))
    assert store.list_jobs() == []
    gone = cli("jobs", "show", job["id"])
    assert gone.returncode == 2
    assert f"no cron job with id {job['id']}" in gone.stderr


def test_run_a_job_here_then_read_its_history_and_next_runs(cli: Cli, store: SqlStore) -> None:
    job = _added(cli, "--schedule", "cron:30 2 * * *", "--timezone", "Europe/Berlin",
                 "--metadata", '{"sleep": 0}')  # fmt: skip
    ran = cli("jobs", "run", job["id"])
    assert "no worker is running: running it here" in ran.stderr
    assert _ok(ran).startswith("succeeded: ")

    history = _ok(cli("jobs", "history", job["id"])).splitlines()
    assert history[0].split()[:2] == ["SCHEDULED", "FOR"]
    assert [line.split()[1] for line in history[1:]] == ["succeeded"]
    [run] = json.loads(_ok(cli("jobs", "history", job["id"], "--json")))["runs"]
    assert (run["status"], run["trigger"], run["attempt"]) == ("succeeded", "manual", 1)
    assert run["duration_ms"] >= 0
    assert history[1].endswith(json.dumps(run["result"]))  # JSON, as the API gives it
    [stored] = store.list_jobs()
    assert stored.last_status == "succeeded"
    assert run["started_at"] == stored.to_dict()["last_run"]

    upcoming = json.loads(_ok(cli("jobs", "next", job["id"], "--count", "3", "--json")))
    assert upcoming["timezone"] == "Europe/Berlin"
    assert upcoming["next_runs"][0] == stored.to_dict()["next_run"]
    assert len(upcoming["next_runs"]) == 3
    lines = _ok(cli("jobs", "next", job["id"], "--count", "3")).splitlines()
    assert len(lines) == 3
    assert all("T02:30:00+01:00  (" in line for line in lines)  # Berlin's wall clock, then UTC


def test_run_here_and_run_due_exit_1_when_a_job_failed(cli: Cli, store: SqlStore) -> None:
    add_job(store, "Broken", "alwaysFails", next_run=datetime.now(UTC) + timedelta(days=1))
    [broken] = store.list_jobs()
    ran = cli("jobs", "run", str(broken.id))
    assert ran.returncode == 1, ran.stderr
    assert ran.stdout.startswith("failed: ")
    # The jobs list's filter sees it at once, though no worker refreshes the list's copy.
    assert [j.name for j in store.list_jobs(JobQuery(last_status="failed"))] == ["Broken"]

    clean = cli("run-due")
    assert clean.returncode == 0, clean.stderr  # nothing due, nothing failed
    store.update_job(broken.id, {"next_run": datetime.now(UTC) - timedelta(seconds=1)})
    failed = cli("run-due")
    assert failed.returncode == 1, failed.stderr
    assert json.loads(failed.stdout)["summary"]["failed"] == 1
    by_last_run = store.list_jobs(JobQuery(sort=parse_sort("-last_run", JOB_SORTS)))
    assert [j.last_run for j in by_last_run] == [j.listed_last_run for j in by_last_run]


def test_every_read_command_takes_json(cli: Cli) -> None:
    _added(cli, "--schedule", "hourly")
    assert _ok(cli("tenant", "add", "Acme"))
    _ok(cli("token", "create", "--email", "ops@x.test", "--role", "superadmin"))
    reads = {
        ("jobs", "list"): "jobs",
        ("status",): "database",
        ("functions",): "functions",
        ("tenant", "list"): "tenants",
        ("token", "list"): "tokens",
        ("schedule", "preview", "daily"): "next_runs",
    }
    for command, key in reads.items():
        data = json.loads(_ok(cli(*command, "--json")))
        assert data[key], command
    assert json.loads(_ok(cli("tenant", "list", "--json")))["tenants"][0]["name"] == "Acme"
    [token] = json.loads(_ok(cli("token", "list", "--json")))["tokens"]
    assert (token["state"], token["role"], "token_hash" in token) == ("live", "superadmin", False)


def test_version(cli: Cli) -> None:
    version = _ok(cli("--version"))
    assert version.startswith("cronbase ")
    assert version.split()[1][0].isdigit()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_closed_pipe_ends_the_command_quietly(database_url: str, store: SqlStore) -> None:
    # More than a pipe's buffer (64 KiB), so the command is still writing when head exits.
    for number in range(500):
        add_job(store, f"A job with a long enough name to fill the pipe sooner {number:03}")
    piped = subprocess.run(
        f"{subprocess.list2cmdline(cli_command('jobs', 'list', '--limit', '500'))} | head -1",
        shell=True,
        env=cli_env(database_url),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert piped.stdout.split()[:2] == ["ID", "ACTIVE"]
    assert piped.stderr == ""  # no BrokenPipeError traceback


def test_jobs_log_shows_a_runs_error_traceback_and_log(cli: Cli) -> None:
    added = cli(
        "jobs", "add", "--name", "Fails", "--function", "logsThenFails", "--schedule", "daily"
    )
    job = json.loads(_ok(added))
    nothing = cli("jobs", "log", job["id"])
    assert nothing.returncode == 2
    assert "it has no run that started yet" in nothing.stderr
    assert cli("jobs", "run", job["id"]).returncode == 1  # no worker: run here, and it failed

    lines = _ok(cli("jobs", "log", job["id"])).splitlines()
    assert lines[0].startswith("run ")
    assert ": failed, scheduled for " in lines[0]
    assert lines[1] == "error: KeyError: 'missing'"
    assert lines[2] == "--- traceback ---"
    assert "in _read_settings" in "\n".join(lines)
    log = lines.index("--- log ---")
    assert lines[log - 1] == "KeyError: 'missing'"
    assert lines[log + 1].endswith(" INFO reading the settings")

    run = json.loads(_ok(cli("jobs", "log", job["id"], "--json")))["run"]
    again = _ok(cli("jobs", "log", job["id"], "--run", run["id"])).splitlines()
    assert again == lines
    assert run["log"].endswith("INFO reading the settings\n")


def test_jobs_list_says_paused_rather_than_a_next_run_a_paused_job_will_not_have(
    cli: Cli,
) -> None:
    _added(cli, "--schedule", "hourly", "--inactive")
    header, row = _ok(cli("jobs", "list")).splitlines()
    assert header.split()[1:3] == ["ACTIVE", "NEXT"]
    assert row.split()[1:3] == ["no", "paused"]
