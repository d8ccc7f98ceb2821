"""`cronbase maintenance add|list|delete`: maintenance windows, during which no alert is sent
about the jobs they cover.

A noun of its own rather than under `channels`: a window covers jobs, whatever channel their
alerts would go to (as /api/cron/maintenance is beside /api/cron/channels, not under it).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from cronbase.cli.common import (
    Commands,
    add_json_flag,
    duration_arg,
    instant_arg,
    manager,
    print_json,
    uuid_arg,
)
from cronbase.jobs import isoformat
from cronbase.manager import SYSTEM
from cronbase.notify.flood import MaintenanceWindow
from cronbase.notify.maintenance import InvalidWindow


def register(commands: Commands) -> None:
    maintenance = commands.group("maintenance", "maintenance windows: no alerts while they last")
    adding = commands.add(
        "add", cmd_maintenance_add, "plan a maintenance window; prints its id", maintenance
    )
    adding.add_argument(
        "--starts-at",
        type=instant_arg,
        metavar="T",
        help="with its offset, e.g. 2026-12-01T22:00:00Z (default: now)",
    )
    end = adding.add_mutually_exclusive_group(required=True)
    end.add_argument("--ends-at", type=instant_arg, metavar="T", help="with its offset")
    end.add_argument(
        "--for", dest="lasting", type=duration_arg, metavar="DURATION", help="2h, 1d, ..."
    )
    adding.add_argument(
        "--job-id",
        dest="job_ids",
        metavar="JOB_ID",
        action="append",
        type=uuid_arg,
        help="only this job (repeat for more; default: every job)",
    )
    adding.add_argument("--reason", default="", help="what is going on, for whoever looks")
    adding.add_argument("--tenant-id", type=uuid_arg, help="default: every tenant's jobs")
    add_json_flag(
        commands.add("list", cmd_maintenance_list, "windows that have not ended", maintenance)
    )
    deleting = commands.add(
        "delete", cmd_maintenance_delete, "end a window now (delete it)", maintenance
    )
    deleting.add_argument("window_id", metavar="ID", type=uuid_arg)


def cmd_maintenance_add(args: argparse.Namespace) -> None:
    domain = manager()
    fields = {
        "starts_at": args.starts_at,
        "ends_at": args.ends_at,
        "job_ids": args.job_ids,
        "reason": args.reason,
        "tenant_id": args.tenant_id,
    }
    if args.lasting is not None:
        start = args.starts_at or domain.clock.now()
        try:
            fields["ends_at"] = start + args.lasting
        except OverflowError:  # --for carries it past the calendar's last day
            message = f"{start.isoformat()} plus {args.lasting} is past the year 9999"
            raise InvalidWindow([("ends_at", message)]) from None
    window = domain.maintenance.create(fields, SYSTEM)
    print(window.id)


def cmd_maintenance_list(args: argparse.Namespace) -> None:
    windows = manager().maintenance.list(SYSTEM)
    if args.json:
        print_json(windows)
        return
    now = datetime.now(UTC)
    print(HEADER)
    for window in windows:
        print(window_line(window, now))


HEADER = f"{'ID':36}  {'STATE':7}  {'STARTS -> ENDS':57}  {'TENANT':36}  JOBS  REASON"


def window_line(window: MaintenanceWindow, now: datetime) -> str:
    """One window on a line, under HEADER (also `cronbase status`'s)."""
    state = "now" if window.starts_at <= now else "planned"
    jobs = "every job" if window.job_ids is None else f"{len(window.job_ids)} job(s)"
    tenant = window.tenant_id or "global"
    reason = f"  {window.reason}" if window.reason else ""
    span = f"{isoformat(window.starts_at)} -> {isoformat(window.ends_at)}"
    return f"{window.id}  {state:7}  {span:57}  {tenant!s:36}  {jobs}{reason}"


def cmd_maintenance_delete(args: argparse.Namespace) -> None:
    manager().maintenance.delete(args.window_id, SYSTEM)
    print(f"deleted maintenance window {args.window_id}")
