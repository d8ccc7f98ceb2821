"""`cronbase functions`: the registered job functions (no database needed)."""

from __future__ import annotations

import argparse

from cronbase.bootstrap import load_registry
from cronbase.cli.common import Commands, settings


def register(commands: Commands) -> None:
    commands.add("functions", cmd_functions, "list the registered job functions")


def cmd_functions(_args: argparse.Namespace) -> None:
    for function in load_registry(settings()).functions():
        print(f"{function.name:28} {function.description}")
