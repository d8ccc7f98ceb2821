"""`cronbase migrate` and `cronbase seed`: the database's schema and its default jobs."""

from __future__ import annotations

import argparse

from cronbase.bootstrap import build
from cronbase.builtin import DEFAULT_JOBS
from cronbase.cli.common import Commands, services, settings


def register(commands: Commands) -> None:
    commands.add("migrate", cmd_migrate, "bring the database to the newest schema (safe to repeat)")
    commands.add("seed", cmd_seed, "create the default jobs that do not exist yet")


def cmd_migrate(_args: argparse.Namespace) -> None:
    database = build(settings(), check=False, functions=False)
    print(f"database: {database.database_location()}")
    before, after = database.migrate()
    print(f"schema is at {after}" if before == after else f"migrated schema {before} -> {after}")
    print(f"run history: {database.run_retention()}")


def cmd_seed(_args: argparse.Namespace) -> None:
    created = services().manager.seed_default_jobs(DEFAULT_JOBS)
    for job in created:
        print(f"created {job.name!r} ({job.schedule}, {'active' if job.is_active else 'inactive'})")
    if not created:
        print("the default jobs exist already; nothing changed")
