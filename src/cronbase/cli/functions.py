"""`cronbase functions`: the registered job functions and their options (no database needed)."""

from __future__ import annotations

import argparse

from cronbase.bootstrap import load_registry
from cronbase.cli.common import Commands, add_json_flag, print_json, settings
from cronbase.job_options import allowed, describe_options


def register(commands: Commands) -> None:
    add_json_flag(commands.add("functions", cmd_functions, "list the registered job functions"))


def cmd_functions(args: argparse.Namespace) -> None:
    functions = load_registry(settings()).functions()
    if args.json:
        print_json(
            {
                "functions": [
                    {
                        "name": f.name,
                        "description": f.description,
                        "options": describe_options(f.options),
                    }
                    for f in functions
                ]
            }
        )
        return
    for function in functions:
        print(f"{function.name:28} {function.description}")
        for option in describe_options(function.options):
            what = f"{allowed(option)} (default {option.default!r})"
            about = f": {option.description}" if option.description else ""
            print(f"  metadata.{option.name:17} {what}{about}")
