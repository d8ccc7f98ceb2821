"""`cronbase schedule preview`: what a schedule means and when it fires (no database needed)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from cronbase.cli.common import Commands, int_between
from cronbase.jobs import isoformat
from cronbase.schedule import describe, preview


def register(commands: Commands) -> None:
    schedule = commands.group("schedule", "work with schedule expressions")
    show = commands.add(
        "preview",
        cmd_schedule_preview,
        "describe a schedule and list its next fire times",
        schedule,
    )
    show.add_argument("schedule")
    show.add_argument("--timezone", default="UTC")
    show.add_argument("--count", type=int_between(1, 1000), default=5)


def cmd_schedule_preview(args: argparse.Namespace) -> None:
    after = datetime.now(UTC)
    print(describe(args.schedule, args.timezone))
    for instant in preview(args.schedule, after, args.count, args.timezone):
        print(isoformat(instant))
