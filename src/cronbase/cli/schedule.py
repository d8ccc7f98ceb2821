"""`cronbase schedule preview`: what a schedule means and when it fires (no database needed)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, tzinfo

from cronbase.cli.common import Commands, add_json_flag, int_between, print_json
from cronbase.jobs import isoformat
from cronbase.schedule import describe, parse_schedule


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
    add_json_flag(show)


def cmd_schedule_preview(args: argparse.Namespace) -> None:
    schedule = parse_schedule(args.schedule, args.timezone)
    fires = schedule.preview(datetime.now(UTC), args.count)
    if args.json:
        description = describe(args.schedule, args.timezone)
        print_json({"description": description, "timezone": schedule.tz, "next_runs": fires})
        return
    print(describe(args.schedule, args.timezone))
    for instant in fires:
        print(fire_time(instant, None if schedule.tz == "UTC" else schedule.zone))


def fire_time(instant: datetime, zone: tzinfo | None) -> str:
    """`instant` as the schedule's wall clock with its offset, then the UTC instant:
    2026-12-01T03:00:00+01:00  (2026-12-01T02:00:00Z); the UTC instant alone in UTC."""
    utc = isoformat(instant)
    if zone is None:
        return str(utc)
    return f"{instant.astimezone(zone).isoformat()}  ({utc})"
