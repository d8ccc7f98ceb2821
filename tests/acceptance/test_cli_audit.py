"""`cronbase jobs audit ID [--json]`: what the CLI's own changes record (as cli:<OS user>), in
a subprocess against a real database (both); the log of a deleted job."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from tests.acceptance.conftest import Cli


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_cli_records_who_changed_a_job_and_shows_its_log(cli: Cli) -> None:
    def as_alice(*args: str) -> str:
        return _ok(cli(*args, LOGNAME="alice"))

    added = as_alice("jobs", "add", "--name", "Digest", "--function", "slowNoop",
                     "--schedule", "hourly", "--metadata", '{"sleep": 0}')  # fmt: skip
    job_id = json.loads(added)["id"]
    as_alice("jobs", "edit", job_id, "--schedule", "daily", "--timeout-seconds", "30")
    as_alice("jobs", "pause", job_id)
    as_alice("jobs", "resume", job_id)
    as_alice("jobs", "run", job_id)

    lines = as_alice("jobs", "audit", job_id).splitlines()
    assert [line.split()[1:3] for line in lines] == [
        ["ran", "cli:alice"],
        ["resumed", "cli:alice"],
        ["paused", "cli:alice"],
        ["updated", "cli:alice"],
        ["created", "cli:alice"],
    ]
    assert lines[3].endswith('schedule: "hourly" -> "daily"; timeout_seconds: null -> 30')
    assert lines[2].endswith("is_active: true -> false")
    assert 'name="Digest", schedule="hourly", function_name="slowNoop"' in lines[4]

    data: dict[str, Any] = json.loads(as_alice("jobs", "audit", job_id, "--json", "--limit", "2"))
    assert [e["action"] for e in data["entries"]] == ["ran", "resumed"]
    assert data["entries"][0]["actor"] == "cli:alice"
    assert data["entries"][0]["actor_role"] == "superadmin"
    assert data["entries"][0]["detail"]["run_id"]
    older = json.loads(as_alice("jobs", "audit", job_id, "--json", "--cursor", data["next_cursor"]))
    assert [e["action"] for e in older["entries"]] == ["paused", "updated", "created"]
    assert older["next_cursor"] is None
    paged = as_alice("jobs", "audit", job_id, "--limit", "2").splitlines()
    assert paged[-1].startswith(f"older entries: cronbase jobs audit {job_id} --cursor ")

    _ok(cli("jobs", "delete", job_id, LOGNAME="bob"))
    [deleted, *_] = as_alice("jobs", "audit", job_id).splitlines()  # outlives the job
    assert deleted.split()[1:3] == ["deleted", "cli:bob"]
    assert deleted.endswith('name="Digest"')

    unknown = cli("jobs", "audit", "00000000-0000-0000-0000-000000000007")
    assert unknown.returncode == 2
    assert "no cron job with id 00000000-0000-0000-0000-000000000007" in unknown.stderr
    bad = cli("jobs", "audit", job_id, "--cursor", "nonsense")
    assert bad.returncode == 2
    assert "malformed cursor" in bad.stderr
