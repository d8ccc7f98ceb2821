"""`cronbase status`: live workers, runs in progress, due, overdue and failing jobs, and the
maintenance windows in effect (which silence alerts an operator might be waiting for)."""

from __future__ import annotations

import argparse

from cronbase.cli.common import Commands, add_json_flag, print_json, services
from cronbase.cli.maintenance import HEADER, window_line
from cronbase.jobs import isoformat
from cronbase.manager import SYSTEM


def register(commands: Commands) -> None:
    add_json_flag(
        commands.add(
            "status",
            cmd_status,
            "show live workers, runs in progress, due, overdue and failing jobs, and "
            "maintenance windows in effect",
        )
    )


def cmd_status(args: argparse.Namespace) -> None:
    deployment = services(functions=False)
    status = deployment.manager.status()
    windows = [w for w in deployment.manager.maintenance.list(SYSTEM) if w.starts_at <= status.now]
    if args.json:
        print_json(
            {
                "database": deployment.database_location(),
                "workers": status.workers,
                "running": [{**run.to_dict(), "job_name": name} for run, name in status.running],
                "due": status.due,
                "overdue": [job.to_dict() for job in status.overdue],
                "failing": [job.to_dict() for job in status.failing],
                "maintenance": windows,
            }
        )
        return
    print(f"database: {deployment.database_location()}")
    now = status.now
    print(f"workers alive: {len(status.workers)}")
    for worker in status.workers:
        age = (now - worker.last_heartbeat).total_seconds()
        print(
            f"  {worker.id}  pid {worker.pid}  since {isoformat(worker.started_at)}  "
            f"heartbeat {age:.0f}s ago"
        )
    print(f"runs in progress: {len(status.running)}")
    for run, name in status.running:
        age = (now - run.started_at).total_seconds() if run.started_at else 0
        print(f"  {name}  on {run.worker_id}  for {age:.0f}s")
    print(f"jobs due: {status.due}")
    # The dead-man's switch's definition (cronbase.overdue), as the job.overdue alert uses it.
    print(f"jobs overdue: {len(status.overdue)}")
    for job in status.overdue:
        late = (now - job.next_run).total_seconds() if job.next_run else 0
        print(
            f"  {job.name} ({job.id}): next run {isoformat(job.next_run)}, {late:.0f}s ago, "
            f"nothing has run it (overdue after {job.overdue_after_seconds}s)"
        )
    print(f"jobs failing: {len(status.failing)}")
    for job in status.failing:
        print(f"  {job.name} ({job.id}): {job.metadata.get('last_error')}")
    print(f"maintenance windows in effect: {len(windows)}")
    if windows:
        print(f"  {HEADER}")
    for window in windows:
        print(f"  {window_line(window, status.now)}")
