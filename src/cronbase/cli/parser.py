"""The argument parser: the top level, then each noun's commands, in the order --help lists."""

from __future__ import annotations

import argparse
import importlib.metadata

from cronbase.cli import (
    channels,
    db,
    functions,
    jobs,
    maintenance,
    schedule,
    serve,
    status,
    tenants,
    tokens,
    worker,
)
from cronbase.cli.common import Commands

# Each registers its commands; the order is the order of `cronbase --help`.
_NOUNS = (
    db,
    worker,
    functions,
    status,
    jobs,
    channels,
    maintenance,
    serve,
    tokens,
    tenants,
    schedule,
)


def _version() -> str:
    try:
        return importlib.metadata.version("cronbase")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree not installed
        return "(not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cronbase",
        description="A database-backed cron system. The database is CRONBASE_DATABASE_URL "
        "(default sqlite:///cronbase.db); job modules come from CRONBASE_JOB_MODULES.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument("--version", action="version", version=f"cronbase {_version()}")
    commands = Commands(parser.add_subparsers(required=True, metavar="COMMAND"))
    for noun in _NOUNS:
        noun.register(commands)
    return parser
