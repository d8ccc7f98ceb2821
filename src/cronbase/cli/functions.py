"""`cronbase functions`: the registered job functions and their options (no database needed)."""

from __future__ import annotations

import argparse

from cronbase.bootstrap import load_registry
from cronbase.cli.common import Commands, settings
from cronbase.job_options import allowed, describe_options


def register(commands: Commands) -> None:
    commands.add("functions", cmd_functions, "list the registered job functions")


def cmd_functions(_args: argparse.Namespace) -> None:
    for function in load_registry(settings()).functions():
        print(f"{function.name:28} {function.description}")
        for option in describe_options(function.options):
            what = f"{allowed(option)} (default {option.default!r})"
            about = f": {option.description}" if option.description else ""
            print(f"  metadata.{option.name:17} {what}{about}")
