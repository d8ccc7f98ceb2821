"""`cronbase maintenance ...` as a user runs it: plan windows, list them, end one early."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from cronbase.jobs import isoformat
from cronbase.store import SqlStore
from tests.acceptance.cli import YEARLY
from tests.acceptance.conftest import Cli


def test_plan_list_and_end_maintenance_windows(cli: Cli, store: SqlStore) -> None:
    job = store.insert_job({"name": "Nightly", "function_name": "echo", "schedule": YEARLY})
    now = cli("maintenance", "add", "--for", "2h", "--reason", "database upgrade")
    assert now.returncode == 0, now.stderr
    tomorrow = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    later = cli(
        "maintenance",
        "add",
        "--starts-at",
        isoformat(tomorrow),
        "--ends-at",
        isoformat(tomorrow + timedelta(hours=1)),
        "--job-id",
        str(job.id),
    )
    assert later.returncode == 0, later.stderr

    windows = json.loads(cli("maintenance", "list", "--json").stdout)
    assert [w["id"] for w in windows] == [now.stdout.strip(), later.stdout.strip()]  # by start
    assert (windows[0]["job_ids"], windows[0]["reason"]) == (None, "database upgrade")
    lasting = datetime.fromisoformat(windows[0]["ends_at"]) - datetime.now(UTC)
    assert timedelta(hours=1, minutes=58) < lasting <= timedelta(hours=2)
    assert (windows[1]["starts_at"], windows[1]["job_ids"]) == (isoformat(tomorrow), [str(job.id)])
    header, *listed = cli("maintenance", "list").stdout.splitlines()
    assert header.split()[:3] == ["ID", "STATE", "STARTS"]
    assert "now" in listed[0]
    assert "every job  database upgrade" in listed[0]
    assert "planned" in listed[1]
    assert "1 job(s)" in listed[1]
    status = cli("status").stdout  # the window in effect, not the planned one
    assert "maintenance windows in effect: 1" in status
    assert "database upgrade" in status
    assert json.loads(cli("status", "--json").stdout)["maintenance"] == windows[:1]

    refused = cli(
        "maintenance", "add", "--ends-at", "2020-01-01T00:00:00Z", "--job-id", str(uuid.uuid4())
    )
    assert refused.returncode == 2
    lines = refused.stderr.splitlines()
    assert lines[0] == "error: ends_at: must be after starts_at and in the future"
    assert lines[1].startswith("error: job_ids.0: no job with id ")
    needs_an_end = cli("maintenance", "add", "--reason", "x")
    assert needs_an_end.returncode == 2
    assert "--ends-at --for" in needs_an_end.stderr

    deleted = cli("maintenance", "delete", windows[0]["id"])
    assert deleted.stdout.strip() == f"deleted maintenance window {windows[0]['id']}"
    assert [w["id"] for w in json.loads(cli("maintenance", "list", "--json").stdout)] == [
        windows[1]["id"]
    ]
    again = cli("maintenance", "delete", windows[0]["id"])
    assert again.returncode == 2
    assert f"no maintenance window with id {windows[0]['id']}" in again.stderr


def test_a_window_past_the_calendar_is_refused_without_a_traceback(cli: Cli) -> None:
    for late in (
        ("--starts-at", "9999-12-31T23:30:00Z", "--for", "1h"),  # the end: past the year 9999
        ("--starts-at", "9999-12-31T22:00:00-14:00", "--ends-at", "9999-12-31T23:00:00-14:00"),
    ):
        refused = cli("maintenance", "add", *late)
        assert refused.returncode == 2, refused.stderr
        assert "Traceback" not in refused.stderr
        assert refused.stderr.startswith("error: "), refused.stderr
        assert "ends_at" in refused.stderr
    assert json.loads(cli("maintenance", "list", "--json").stdout) == []
