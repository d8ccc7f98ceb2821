from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest

from tests.acceptance.cli import cli_command, cli_env

Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli(database_url: str) -> Cli:
    """Run `cronbase ARGS` in a subprocess against the test's database."""

    def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            cli_command(*args),
            env=cli_env(database_url, **env),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    return run
