"""`cronbase jobs backfill ID --start ... --end ...`: replay a job's past slots."""

from __future__ import annotations

import argparse
from zoneinfo import ZoneInfo

from cronbase.cli.common import add_job_id, instant_arg, manager, operator
from cronbase.cli.schedule import fire_time
from cronbase.manager import SYSTEM


def add_command(adding: argparse.ArgumentParser) -> None:
    add_job_id(adding)
    adding.add_argument("--start", type=instant_arg, required=True, help="with an offset or Z")
    adding.add_argument("--end", type=instant_arg, required=True, help="the range ends before it")
    adding.add_argument(
        "--include-dependents", action="store_true", help="run the jobs that depend on it too"
    )
    adding.add_argument("--dry-run", action="store_true", help="list the slots, queue nothing")


def cmd_jobs_backfill(args: argparse.Namespace) -> None:
    jobs = manager()
    job = jobs.get_job(args.job_id, SYSTEM)
    backfill, slots = jobs.backfill(
        args.job_id,
        operator(),
        start=args.start,
        end=args.end,
        include_dependents=args.include_dependents,
        dry_run=args.dry_run,
    )
    zone = None if job.timezone == "UTC" else ZoneInfo(job.timezone)
    for slot in slots:
        print(fire_time(slot, zone))
    if backfill is None:
        print(f"{len(slots)} slot(s) would be queued (dry run: nothing queued)")
    else:
        print(f"backfill {backfill.id}: queued {len(slots)} run(s) of {job.name}")
