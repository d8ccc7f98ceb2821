"""Stopping `cronbase worker` and `cronbase serve` as a user does, with Ctrl-C (SIGINT) or
SIGTERM: the first signal lets the run in progress end and says what it waits for, a second
one stops now."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from cronbase.store import SqlStore
from tests.acceptance.cli import add_job, cli_command, cli_env, free_port
from tests.helpers import run_history, wait_until

COMMANDS = {"worker": ("worker",), "serve": ("serve", "--port")}


def start(database_url: str, command: str, log: Path) -> subprocess.Popen[str]:
    args = COMMANDS[command] + ((str(free_port()),) if command == "serve" else ())
    with log.open("w") as out:  # a file: a pipe nobody reads while it runs could fill up
        return subprocess.Popen(
            cli_command(*args), env=cli_env(database_url), stdout=out, stderr=subprocess.STDOUT
        )


def statuses(store: SqlStore) -> list[str]:
    return [run.status for run in run_history(store)]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_first_ctrl_c_says_what_it_waits_for_and_a_second_one_stops_now(
    database_url: str, store: SqlStore, tmp_path: Path, command: str
) -> None:
    add_job(store, "Send digest", metadata={"sleep": 120})
    log = tmp_path / "output.log"
    process = start(database_url, command, log)
    try:
        wait_until(
            lambda: statuses(store) == ["running"], what="the run to start", state=log.read_text
        )
        process.send_signal(signal.SIGINT)
        waiting = (
            "stopping: waiting up to 30 s for 1 run in progress (Send digest); "
            "press Ctrl-C again to stop now"
        )
        wait_until(lambda: waiting in log.read_text(), what=waiting, state=log.read_text)
        assert process.poll() is None, log.read_text()  # it waits for the run

        process.send_signal(signal.SIGINT)
        sent = time.monotonic()
        process.wait(timeout=30)
        took = time.monotonic() - sent
    finally:
        process.kill()
        process.wait()
    output = log.read_text()
    assert took < 5, output
    assert process.returncode == 128 + signal.SIGINT, output
    assert "Traceback" not in output
    [run] = run_history(store)
    assert run.status == "abandoned", output  # recorded before the exit: nothing left running
    assert "shut down before the run ended" in run.error


def test_serve_lets_the_run_in_progress_finish_on_one_signal(
    database_url: str, store: SqlStore, tmp_path: Path
) -> None:
    add_job(store, "Short", metadata={"sleep": 2})
    log = tmp_path / "output.log"
    process = start(database_url, "serve", log)
    try:
        wait_until(
            lambda: statuses(store) == ["running"], what="the run to start", state=log.read_text
        )
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    finally:
        process.kill()
        process.wait()
    output = log.read_text()
    assert process.returncode == 0, output
    assert "stopping: waiting up to 30 s for 1 run in progress (Short)" in output
    assert "run succeeded: Short (slowNoop)" in output
    assert statuses(store) == ["succeeded"]
