"""`cronbase jobs explain ID`: why a job runs or does not, in words and with --json, run as a
user runs it, in a subprocess, against a real database (both)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from cronbase.store import SqlStore
from cronbase.store.workers import WorkerStore
from tests.acceptance.cli import add_job
from tests.acceptance.conftest import Cli


def test_explain_says_why_an_overdue_job_did_not_run_and_when_a_paused_one_would(
    cli: Cli, store: SqlStore
) -> None:
    # Due an hour ago and nothing alive to run it: overdue (past its 10-minute grace).
    add_job(store, "Nightly", next_run=datetime.now(UTC) - timedelta(hours=1))
    [job] = store.list_jobs()
    result = cli("jobs", "explain", str(job.id))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("overdue_no_worker: It is overdue: ")
    assert "  It has never run." in lines
    assert "  Live workers: 0." in lines
    assert lines[-6] == "Next runs (UTC):"  # a UTC job: each time once, not "UTC / UTC"
    # Five: the overdue slot, then the yearly ones.
    next_runs = [line.strip() for line in lines[-5:]]
    assert job.next_run is not None
    assert next_runs[0].startswith(job.next_run.strftime("%Y-%m-%dT%H:%M:%S"))
    years = range(job.next_run.year + 1, job.next_run.year + 5)
    assert next_runs[1:] == [f"{year}-01-01T00:00:00Z" for year in years]

    store.update_job(job.id, {"is_active": False})
    found = json.loads(cli("jobs", "explain", str(job.id), "--json").stdout)["explanation"]
    assert found["state"] == "paused"
    assert found["summary"] == "It does not run because it is paused; resume it to run it again."
    assert len(found["next_runs"]) == 5  # the times it would run at, resumed now
    store.update_job(job.id, {"timezone": "Europe/Berlin"})
    lines = cli("jobs", "explain", str(job.id)).stdout.splitlines()
    assert lines[-6] == "Next runs (Europe/Berlin / UTC):"
    assert lines[-1].endswith("-01-01T00:00:00+01:00  /  " + lines[-1][-20:])
    assert lines[-1].endswith("-12-31T23:00:00Z")


def test_explain_of_no_such_job_is_a_clear_error(cli: Cli) -> None:
    result = cli("jobs", "explain", "00000000-0000-0000-0000-000000000001")
    assert result.returncode == 2
    assert "no cron job with id 00000000-0000-0000-0000-000000000001" in result.stderr


def test_explain_counts_the_live_workers_free_slots(cli: Cli, store: SqlStore) -> None:
    add_job(store, "Nightly", next_run=datetime.now(UTC) - timedelta(hours=1))
    [job] = store.list_jobs()
    WorkerStore(store.engine).register("w-1", "host-a", 7, datetime.now(UTC), threads=2)
    result = cli("jobs", "explain", str(job.id))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("overdue_workers_busy: It is overdue: ")
    assert "  Live workers: 1, 2 of 2 slots free." in lines
    assert "    w-1 on host-a (pid 7), 2 of 2 slots free" in lines
