"""`cronbase run-due` (one round) and `cronbase worker` (until stopped)."""

from __future__ import annotations

import argparse
import logging
import signal
from types import FrameType

from cronbase.cli.common import Commands, print_json, services

logger = logging.getLogger("cronbase")


def register(commands: Commands) -> None:
    commands.add("run-due", cmd_run_due, "run every due job once and print the summary as JSON")
    commands.add("worker", cmd_worker, "run jobs as they fall due until SIGINT or SIGTERM")


def cmd_run_due(_args: argparse.Namespace) -> None:
    print_json(services().new_runner().run_due().to_dict())


def cmd_worker(_args: argparse.Namespace) -> None:
    worker = services().new_worker()

    def stop(signum: int, _frame: FrameType | None) -> None:
        logger.info(
            "%s received: finishing the run in progress, then stopping", signal.Signals(signum).name
        )
        worker.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    worker.run()
