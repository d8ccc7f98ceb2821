"""The `cronbase` command, run as a user runs it: in a subprocess, against a real database."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from cronbase.store import SqlStore
from cronbase.store.engine import database_location
from tests.acceptance.cli import add_job, cli_command, cli_env, free_port
from tests.acceptance.conftest import Cli
from tests.helpers import wait_until


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
    assert "run history: runs are kept 90 days (this installation's default)" in migrated.stdout


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
    assert "0-23" in _error(result, "schedule")
    assert "Europe/Atlantis" in _error(result, "timezone")
    function = _error(result, "function_name")
    assert function.startswith("error: function_name: 'nope'")
    assert "slowNoop" in function
    assert store.list_jobs() == []


def _error(result: subprocess.CompletedProcess[str], field: str) -> str:
    """The one line of stderr that reports `field`."""
    [line] = [line for line in result.stderr.splitlines() if line.startswith(f"error: {field}:")]
    return line


def test_jobs_add_checks_the_functions_options(cli: Cli, store: SqlStore) -> None:
    def add(metadata: str) -> subprocess.CompletedProcess[str]:
        return cli(
            "jobs", "add", "--name", "Cleanup", "--schedule", "daily",
            "--function", "cleanOldActivities", "--metadata", metadata,
        )  # fmt: skip

    refused = add('{"mode": "bogus", "batch_size": "many", "team": "ops"}')
    assert refused.returncode == 2
    mode = _error(refused, "metadata.mode")
    assert "must be one of 'archive', 'delete' (default 'archive'); got 'bogus'" in mode
    assert "an integer from 1 to 10000 (default 1000)" in _error(refused, "metadata.batch_size")
    assert store.list_jobs() == []

    listed = cli("functions")
    assert listed.returncode == 0, listed.stderr
    [mode_line] = [line for line in listed.stdout.splitlines() if "metadata.mode" in line]
    assert "one of 'archive', 'delete' (default 'archive')" in mode_line

    added = add('{"mode": "delete", "retention_days": null, "team": "ops"}')
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["metadata"] == {
        "mode": "delete",
        "retention_days": None,
        "team": "ops",
    }


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


def _fire_times(cli: Cli, *args: str) -> list[tuple[str, datetime, datetime]]:
    """The preview's fire times: each line, its wall-clock time and its UTC instant."""
    result = cli("schedule", "preview", *args)
    assert result.returncode == 0, result.stderr
    times = []
    for line in result.stdout.splitlines()[1:]:
        local, utc = line.split("  ")
        assert utc.startswith("("), line
        assert utc.endswith("Z)"), line
        times.append((line, datetime.fromisoformat(local), datetime.fromisoformat(utc[1:-1])))
    return times


def test_schedule_preview_shows_the_zones_wall_clock_with_its_offset_and_the_utc_instant(
    cli: Cli,
) -> None:
    # A year of days holds both DST changes of Berlin, whatever the day the test runs.
    times = _fire_times(cli, "cron:0 3 * * *", "--timezone", "Europe/Berlin", "--count", "366")
    assert len(times) == 366
    for line, local, utc in times:
        assert (local.hour, local.minute) == (3, 0), line
        assert local == utc, line  # the same instant
        hours = 1 if local.utcoffset() == timedelta(hours=1) else 2  # ahead of UTC
        assert (
            line == f"{local:%Y-%m-%d}T03:00:00+0{hours}:00  ({utc:%Y-%m-%d}T0{3 - hours}:00:00Z)"
        )
    offsets = {local.utcoffset() for _, local, _ in times}
    assert offsets == {timedelta(hours=1), timedelta(hours=2)}  # winter and summer time


def test_schedule_preview_shows_a_time_in_the_spring_gap_at_the_end_of_the_gap(cli: Cli) -> None:
    times = _fire_times(cli, "cron:30 2 * * *", "--timezone", "Europe/Berlin", "--count", "366")
    moved = [(local, utc) for _, local, utc in times if (local.hour, local.minute) != (2, 30)]
    # 02:30 does not exist on the spring-forward day: it runs once, right after the gap.
    [(local, utc)] = moved
    assert (local.month, local.weekday(), local.hour, local.minute) == (3, 6, 3, 0)
    assert local.utcoffset() == timedelta(hours=2)
    assert (utc.hour, utc.minute, utc.utcoffset()) == (1, 0, timedelta(0))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_worker_runs_due_jobs_and_stops_cleanly_on_a_signal(
    database_url: str, store: SqlStore, signum: int
) -> None:
    add_job(store, "Now", metadata={"sleep": 1.0})
    worker = subprocess.Popen(
        cli_command("worker"), env=cli_env(database_url), stderr=subprocess.PIPE, text=True
    )
    assert worker.stderr is not None
    wait_until(
        lambda: store.list_runs(store.list_jobs()[0].id), what="the job to start", timeout=60
    )
    worker.send_signal(signum)
    _, stderr = worker.communicate(timeout=30)

    assert worker.returncode == 0, stderr
    assert "finishing the runs in progress, if any, then stopping" in stderr, stderr
    assert "run succeeded: Now (slowNoop)" in stderr, stderr  # the run in progress finished
    [run] = store.list_runs(store.list_jobs()[0].id)
    assert run.status == "succeeded"


def _serve_until_healthy(env: dict[str, str], port: int) -> subprocess.Popen[str]:
    server = subprocess.Popen(
        cli_command("serve", "--port", str(port), "--no-worker"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )

    def healthy() -> bool:
        if server.poll() is not None:
            raise AssertionError(f"cronbase serve exited with code {server.returncode}")
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(healthy, what="cronbase serve to answer /healthz", timeout=60, interval=0.1)
    except AssertionError as failure:
        server.kill()
        output = server.communicate()[0]
        raise AssertionError(f"cronbase serve did not come up ({failure}): {output}") from None
    return server


def _stop(server: subprocess.Popen[str]) -> str:
    server.send_signal(signal.SIGTERM)
    output, _ = server.communicate(timeout=30)
    return output


def test_serve_prints_a_working_token_on_first_start_only(database_url: str) -> None:
    env, port = cli_env(database_url), free_port()
    first = _stop(_serve_until_healthy(env, port))
    token = next(word for word in first.split() if word.startswith("cb_"))
    assert f"http://127.0.0.1:{port}/docs" in first

    server = _serve_until_healthy(env, port)
    try:
        jobs = httpx.get(
            f"http://127.0.0.1:{port}/api/cron/jobs", headers={"Authorization": f"Bearer {token}"}
        )
    finally:
        second = _stop(server)
    assert jobs.status_code == 200, jobs.text
    assert jobs.json()["data"]["jobs"] == []
    assert "cb_" not in second  # shown once, on the first start only


def test_a_tenant_name_that_reads_as_nothing_is_refused(cli: Cli) -> None:
    # A blank name, one with a tab or a NUL, or 5,000 characters were all stored: the Web UI's
    # tenant column and filter then showed nothing, or a name that ran off the page.
    for name, says in [
        ("", "must not be blank"),
        ("   ", "must not be blank"),
        ("Acme\tCorp", "control characters"),
        ("Acme\u202eproC", "U+202E"),
        ("x" * 5000, "at most 200"),
    ]:
        refused = cli("tenant", "add", name)
        assert refused.returncode == 2, (name, refused.stdout)
        assert refused.stderr.startswith("error: name: "), refused.stderr
        assert says in refused.stderr, refused.stderr
    assert cli("tenant", "list").stdout == ""  # nothing was created
    assert cli("tenant", "add", " Acme ").returncode == 0
    assert cli("tenant", "list").stdout.split()[1:] == ["Acme"]
    # A second "Acme" (in any case) could not be told apart in the tenant list and filter.
    again = cli("tenant", "add", "ACME")
    assert again.returncode == 2, again.stdout
    assert "a tenant named 'ACME' exists" in again.stderr
    assert "pick another name" in again.stderr
    assert cli("tenant", "list").stdout.split()[1:] == ["Acme"]


def test_tokens_for_tenant_admins_are_created_checked_and_revoked(cli: Cli) -> None:
    tenant = cli("tenant", "add", "Acme").stdout.strip()
    refused = cli("token", "create", "--email", "a@acme.test", "--role", "admin")
    assert refused.returncode == 2
    assert "--tenant-id: an admin belongs to a tenant: give its id" in refused.stderr

    created = cli(
        "token", "create", "--email", "a@acme.test", "--role", "admin", "--tenant-id", tenant
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("cb_")
    listed = cli("token", "list").stdout
    assert "a@acme.test" in listed
    assert created.stdout.strip() not in listed  # only hashes are kept
    token_id = listed.split()[0]
    assert cli("token", "revoke", token_id).returncode == 0
    assert "revoked" in cli("token", "list").stdout
    assert cli("token", "revoke", token_id).returncode == 2


def test_status_shows_the_live_worker_and_its_run_in_progress(
    database_url: str, store: SqlStore, cli: Cli
) -> None:
    add_job(store, "Slow", metadata={"sleep": 30})
    add_job(
        store,
        "Broken",
        schedule="hourly",
        metadata={"last_error": "it broke"},
        next_run=datetime.now(UTC) + timedelta(hours=1),
    )
    worker = subprocess.Popen(
        cli_command("worker"), env=cli_env(database_url), stderr=subprocess.DEVNULL
    )
    try:
        wait_until(store.runs_in_progress, what="the run to start", timeout=60, interval=0.1)
        status = cli("status")
    finally:
        worker.kill()
        worker.wait()
    assert status.returncode == 0, status.stderr
    assert status.stdout.splitlines()[0] == f"database: {database_location(database_url)}"
    assert "workers alive: 1" in status.stdout
    assert "runs in progress: 1" in status.stdout
    assert "  Slow  on " in status.stdout
    assert "jobs failing: 1" in status.stdout
    assert "Broken" in status.stdout


def test_status_lists_the_overdue_jobs(store: SqlStore, cli: Cli) -> None:
    late = datetime.now(UTC) - timedelta(minutes=20)
    add_job(store, "Stuck", next_run=late)  # nothing has run it for 20 minutes: overdue
    add_job(store, "Patient", next_run=late, overdue_after_seconds=3600)  # within its grace
    add_job(store, "Paused", next_run=late, is_active=False)
    status = cli("status")
    assert status.returncode == 0, status.stderr
    assert "jobs due: 2" in status.stdout
    assert "jobs overdue: 1" in status.stdout
    [line] = [line for line in status.stdout.splitlines() if line.startswith("  Stuck")]
    assert "nothing has run it (overdue after 600s)" in line


@pytest.mark.parametrize(
    "args",
    [
        ("schedule", "preview", "hourly", "--count", "0"),
        ("schedule", "preview", "hourly", "--count", "2000"),
        ("jobs", "list", "--limit", "-1"),
        ("jobs", "list", "--offset", "ten"),
    ],
)
def test_out_of_range_options_get_a_usage_error_not_a_traceback(
    cli: Cli, args: tuple[str, ...]
) -> None:
    result = cli(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "between" in result.stderr or "whole number" in result.stderr


def test_jobs_add_takes_retries_and_isolation_and_jobs_list_shows_them(cli: Cli) -> None:
    cli("migrate")
    added = cli(
        "jobs", "add", "--name", "Nightly export", "--schedule", "daily", "--function",
        "markUsersOffline", "--max-attempts", "3", "--retry-delay-seconds", "60",
        "--isolation", "process", "--timeout-seconds", "600", "--priority", "5",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    job = json.loads(added.stdout)
    assert (job["max_attempts"], job["retry_delay_seconds"], job["isolation"]) == (3, 60, "process")

    listing = cli("jobs", "list")
    header, row = listing.stdout.splitlines()
    assert header.split()[4:8] == ["LAST", "RUN", "LAST", "STATUS"]
    assert header.split()[9:14] == ["PRIO", "TIMEOUT", "TRIES", "ISOLATION", "NAME"]
    assert row.split()[3:5] == ["-", "-"]  # it has not run yet
    assert row.split()[6:] == ["5", "600s", "3", "process", "Nightly", "export"]

    refused = cli(
        "jobs", "add", "--name", "x", "--schedule", "daily", "--function", "markUsersOffline",
        "--max-attempts", "0",
    )  # fmt: skip
    assert refused.returncode != 0
    assert "max_attempts" in refused.stderr


def test_serve_refuses_to_start_with_a_short_jwt_secret(database_url: str) -> None:
    env = cli_env(database_url, CRONBASE_JWT_SECRET="x")
    refused = subprocess.run(
        cli_command("serve", "--port", str(free_port())),
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=30,  # a server that started would still be serving: a failure
    )
    assert refused.returncode == 2
    assert "CRONBASE_JWT_SECRET" in refused.stderr
    assert "at least 32" in refused.stderr


@pytest.mark.parametrize("command", [("jobs", "list"), ("status",), ("run-due",)])
def test_a_command_run_elsewhere_names_the_missing_database_and_creates_none(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    env = cli_env("unused")
    del env["CRONBASE_DATABASE_URL"]  # the default, sqlite:///cronbase.db, is relative
    refused = subprocess.run(
        cli_command(*command), env=env, cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert refused.returncode == 2
    assert f"there is no database at sqlite:///{tmp_path / 'cronbase.db'}" in refused.stderr
    assert "run `cronbase migrate`" in refused.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_cli_creates_expiring_tokens_and_lists_when_they_expire(cli: Cli) -> None:
    created = cli(
        "token", "create", "--email", "ci@x.test", "--role", "superadmin", "--expires-in", "90d"
    )
    assert created.returncode == 0, created.stderr
    assert ", expires 20" in created.stderr
    forever = cli("token", "create", "--email", "ops@x.test", "--role", "superadmin")
    assert forever.returncode == 0, forever.stderr
    listed = {line.split()[-1]: line for line in cli("token", "list").stdout.splitlines()}
    assert "live until 20" in listed["ci@x.test"]
    assert "live until" not in listed["ops@x.test"]
    assert " live " in listed["ops@x.test"]


def test_the_cli_refuses_a_duration_it_cannot_read(cli: Cli) -> None:
    # A number past what a timedelta holds was a traceback (OverflowError, exit 1), and a digit
    # that is not 0-9 ("²") passed isdigit() and failed int(): "invalid duration_arg value".
    for bad in ("90", "abc", "0d", "90y", "-5d", "99999w", "99999999999999999999d", "²d"):
        refused = cli(
            "token", "create", "--email", "ci@x.test", "--role", "superadmin", "--expires-in", bad
        )
        assert refused.returncode == 2, bad
        assert "--expires-in" in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr
        assert "duration_arg" not in refused.stderr
    assert cli("token", "list").stdout == ""  # nothing was created


def test_serve_on_a_busy_port_says_so_in_one_line_and_starts_nothing(
    database_url: str, cli: Cli
) -> None:
    with socket.socket() as taken, socket.socket() as next_one:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        try:  # the next port is busy too: it was suggested all the same
            next_one.bind(("127.0.0.1", port + 1))
            next_one.listen()
        except OSError:
            pass  # something else holds it: busy either way
        refused = subprocess.run(
            cli_command("serve", "--port", str(port)),
            env=cli_env(database_url),
            capture_output=True,
            text=True,
            check=False,
            timeout=60,  # a server that started would still be serving: a failure
        )
        assert refused.returncode == 2
        assert "Traceback" not in refused.stderr
        [line] = refused.stderr.splitlines()
        assert line.startswith(
            f"error: cannot serve on 127.0.0.1:{port}: the address is already in use"
        )
        suggested = re.search(r"--port (\d+) \(make run PORT=(\d+)\)", line)
        assert suggested is not None, line
        assert suggested[1] == suggested[2]
        assert int(suggested[1]) not in (port, port + 1)
    assert refused.stdout == ""  # no banner, and no first token shown and then lost
    assert cli("token", "list").stdout.strip() == ""  # the first start is still to come


def test_jobs_add_takes_dependencies_and_jobs_list_shows_on_demand(cli: Cli) -> None:
    first = cli("jobs", "add", "--name", "Import", "--schedule", "hourly", "--function",
                "markUsersOffline")  # fmt: skip
    upstream = json.loads(first.stdout)["id"]
    added = cli(
        "jobs", "add", "--name", "Page", "--schedule", "on_demand", "--function",
        "markUsersOffline", "--depends-on", f"{upstream}:failure",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    job = json.loads(added.stdout)
    assert job["depends_on"] == [{"job_id": upstream, "on": "failure"}]
    assert (job["wait_for"], job["next_run"]) == ("any", None)
    [_, _, page] = cli("jobs", "list").stdout.splitlines()
    assert "  on demand  " in page

    refused = cli(
        "jobs", "add", "--name", "x", "--schedule", "daily", "--function", "markUsersOffline",
        "--depends-on", f"{upstream}:sometimes",
    )  # fmt: skip
    assert refused.returncode == 2
    dependency = _error(refused, "depends_on.0")  # the one line about it; it says what is wrong
    assert '"on": one of success, failure, completion' in dependency
    assert "'on': 'sometimes'" in dependency


def test_jobs_dependencies_prints_the_chain_in_running_order(cli: Cli) -> None:
    def add(name: str, *extra: str) -> str:
        added = cli("jobs", "add", "--name", name, "--function", "markUsersOffline", *extra)
        assert added.returncode == 0, added.stderr
        return str(json.loads(added.stdout)["id"])

    first = add("Import", "--schedule", "hourly")
    middle = add("Sync", "--schedule", "on_demand", "--depends-on", first)
    last = add("Report", "--schedule", "on_demand", "--depends-on", f"{middle}:completion")
    shown = cli("jobs", "dependencies", middle)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines() == [
        "runs after:",
        f"  [1] Import ({first}, hourly) -- on success",
        f"> Sync ({middle}, on_demand, wait_for any)",
        "runs before:",
        f"  [1] Report ({last}, on_demand) -- on completion",
    ]


def test_jobs_backfill_previews_and_queues(cli: Cli, store: SqlStore) -> None:
    added = cli("jobs", "add", "--name", "Hourly", "--schedule", "hourly", "--function",
                "markUsersOffline", "--timezone", "Europe/Berlin")  # fmt: skip
    job_id = json.loads(added.stdout)["id"]
    spring = ("--start", "2024-03-31T00:00:00+01:00", "--end", "2024-04-01T00:00:00+02:00")
    preview = cli("jobs", "backfill", job_id, *spring, "--dry-run")
    assert preview.returncode == 0, preview.stderr
    lines = preview.stdout.splitlines()
    assert lines[-1] == "23 slot(s) would be queued (dry run: nothing queued)"
    assert lines[0] == "2024-03-31T00:00:00+01:00  (2024-03-30T23:00:00Z)"
    assert store.list_runs(uuid.UUID(job_id)) == []
    queued = cli("jobs", "backfill", job_id, *spring)
    assert queued.returncode == 0, queued.stderr
    assert queued.stdout.splitlines()[-1].endswith("queued 23 run(s) of Hourly")
    assert len(store.list_runs(uuid.UUID(job_id))) == 23
    naive = cli("jobs", "backfill", job_id, "--start", "2024-03-31T00:00", "--end", "2024-04-01")
    assert naive.returncode == 2
    assert "needs a zone or offset" in naive.stderr


@pytest.mark.parametrize(
    ("email", "why"),
    [
        ("a\udcffb@x.test", "holds characters that are not printable text"),  # not UTF-8
        (" ", "must not be blank"),
        ("x" * 400 + "@x.test", "must be at most 320 characters"),
    ],
)
def test_a_token_for_an_email_that_names_nobody_is_refused_at_email(
    cli: Cli, email: str, why: str
) -> None:
    refused = cli("token", "create", "--email", email, "--role", "superadmin")
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: --email: ")
    assert why in refused.stderr
    assert "Traceback" not in refused.stderr
    assert cli("token", "list").stdout == ""


def test_a_bad_setting_is_one_line_naming_the_variable_and_the_fix(cli: Cli) -> None:
    # The check's own message came after pydantic's "Value error, ": "CRONBASE_RUN_RETENTION_DAYS:
    # Value error, CRONBASE_RUN_RETENTION_DAYS is 3; ...".
    refused = cli("status", CRONBASE_RUN_RETENTION_DAYS="3")
    assert refused.returncode == 2
    assert refused.stderr == (
        "error: CRONBASE_RUN_RETENTION_DAYS is 3; it must be 0 (keep every run) or at least 7 "
        "(dependent jobs look a week back at their upstreams' runs)\n"
    )
    refused = cli("status", CRONBASE_RUN_RETENTION_DAYS="abc")
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: CRONBASE_RUN_RETENTION_DAYS: "), refused.stderr


def test_a_database_that_does_not_answer_is_one_line_saying_what_to_check(cli: Cli) -> None:
    # A server that is down, or a database name mistyped, was a SQLAlchemy traceback (exit 1).
    url = f"postgresql://cron:hunter2@127.0.0.1:{free_port()}/cronbase"  # nothing listens there
    for command in (("status",), ("migrate",), ("jobs", "list")):
        refused = cli(*command, CRONBASE_DATABASE_URL=url)
        assert refused.returncode == 2, (command, refused.stderr)
        assert "Traceback" not in refused.stderr, refused.stderr
        [line] = refused.stderr.splitlines()
        assert line.startswith("error: the database did not answer: "), line
        assert "Connection refused" in line or "connection failed" in line, line
        assert "CRONBASE_DATABASE_URL" in line, line
        assert "hunter2" not in line  # the password stays out of the message


def test_arguments_that_are_not_utf8_are_refused_at_their_field(cli: Cli) -> None:
    # Bytes that are not UTF-8 reach Python as lone surrogates ("\udcff"): a job's name, a
    # tenant's or a window's reason holding one passed the checks and failed in the driver, a
    # traceback (exit 1).
    not_utf8 = "Nightly\udcff"  # subprocess passes it on as the byte 0xff
    for command, field in [
        (
            ("jobs", "add", "--name", not_utf8, "--schedule", "hourly", "--function", "slowNoop"),
            "name",
        ),
        (("tenant", "add", not_utf8), "name"),
        (("maintenance", "add", "--for", "1h", "--reason", not_utf8), "reason"),
    ]:
        refused = cli(*command)
        assert refused.returncode == 2, (command, refused.stderr)
        assert refused.stderr.startswith(f"error: {field}: "), refused.stderr
        assert "not UTF-8" in refused.stderr, refused.stderr
    assert cli("jobs", "list", "--json").stdout.count('"id"') == 0
    assert cli("tenant", "list").stdout == ""
