"""`cronbase run-due` (one round) and `cronbase worker` (until stopped)."""

from __future__ import annotations

import argparse

from cronbase.cli.common import Commands, print_json, services
from cronbase.cli.stopping import TwoStepStop


def register(commands: Commands) -> None:
    commands.add("run-due", cmd_run_due, "run every due job once and print the summary as JSON")
    commands.add("worker", cmd_worker, "run jobs as they fall due until SIGINT or SIGTERM")


def cmd_run_due(_args: argparse.Namespace) -> None:
    print_json(services().new_runner().run_due().to_dict())


def cmd_worker(_args: argparse.Namespace) -> int:
    worker = services().new_worker()
    stopping = TwoStepStop(worker)
    stopping.install()
    worker.run()
    return stopping.exit_status
