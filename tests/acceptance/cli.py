"""Running the `cronbase` command in a subprocess against a test database."""

from __future__ import annotations

import os
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cronbase.store import SqlStore

HERE = Path(__file__).parent

# For jobs a test makes due by hand: no slot of their own falls due while the test runs, so the
# history holds only the runs the test caused (no extra run or `missed` row at a 5-minute mark).
YEARLY = "cron:0 0 1 1 *"


def cli_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment for a cronbase subprocess: the test database and tests' job module."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRONBASE_")}
    env["CRONBASE_DATABASE_URL"] = database_url
    env["CRONBASE_JOB_MODULES"] = "sample_jobs"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "cronbase", *args]


def add_job(store: SqlStore, name: str, function: str = "slowNoop", **values: Any) -> None:
    """A job for a cronbase process to run, written straight to the store at the wall-clock time.

    It runs only when the test makes it due (yearly), and is due now unless `next_run` says
    otherwise. (In-process tests make jobs through the manager instead: `make_job`.)
    """
    defaults = {"schedule": YEARLY, "next_run": datetime.now(UTC)}
    store.insert_job({**defaults, "name": name, "function_name": function, **values})


def free_port() -> int:
    """A loopback port nothing listens on (free when asked: take it soon)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
