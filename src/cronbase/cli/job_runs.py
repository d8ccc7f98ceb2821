"""`cronbase jobs run|history|next|explain`: a job's runs, when it runs next, and why it
runs or does not."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from cronbase.cli.common import (
    Commands,
    add_job_id,
    add_json_flag,
    int_between,
    manager,
    operator,
    print_json,
    services,
    uuid_arg,
)
from cronbase.cli.schedule import fire_time
from cronbase.errors import ConfigurationError
from cronbase.jobs import FAILURE_STATUSES, Run, isoformat
from cronbase.manager import SYSTEM
from cronbase.schedule import parse_schedule

# A run that ended in one of these makes `jobs run` exit 1, as `run-due` does.


def register(commands: Commands, jobs: object) -> None:
    """Add the commands to the `jobs` group made by jobs.py."""
    run = commands.add(
        "run",
        cmd_jobs_run,
        "run a job now, outside its schedule: queued for the workers, or run here if none runs",
        jobs,
    )
    add_job_id(run)

    history = commands.add("history", cmd_jobs_history, "list a job's runs, newest first", jobs)
    add_job_id(history)
    history.add_argument("--limit", type=int_between(1, 500), default=20)
    history.add_argument("--offset", type=int_between(0, 2**31 - 1), default=0)
    add_json_flag(history)

    log = commands.add(
        "log", cmd_jobs_log, "show a run's error, traceback and log (by default the newest)", jobs
    )
    add_job_id(log)
    log.add_argument("--run", dest="run_id", type=uuid_arg, metavar="RUN_ID", help="its id")
    add_json_flag(log)

    upcoming = commands.add("next", cmd_jobs_next, "list the times a job runs next", jobs)
    add_job_id(upcoming)
    upcoming.add_argument("--count", type=int_between(1, 1000), default=5)
    add_json_flag(upcoming)

    why = commands.add("explain", cmd_jobs_explain, "say why a job runs or does not", jobs)
    add_job_id(why)
    add_json_flag(why)


def cmd_jobs_run(args: argparse.Namespace) -> int:
    deployment = services()
    jobs = deployment.manager
    queued = jobs.run_now(args.job_id, operator())
    if jobs.live_workers():
        print(f"queued run {queued.id}: a worker starts it as soon as it has a free slot")
        return 0
    # No worker runs: run the due work here, as the Web UI's "Run now" does then.
    print("no worker is running: running it here", file=sys.stderr)
    runner = deployment.new_runner()
    runner.run_due()
    deployment.new_search_refresher(runner.worker_id).refresh(before_exit=True)  # as run-due does
    run = jobs.get_run(args.job_id, queued.id, SYSTEM)
    print(f"{run.status}: {_outcome(run)}")
    return 1 if run.status in FAILURE_STATUSES else 0


def cmd_jobs_history(args: argparse.Namespace) -> None:
    runs = manager().list_runs(args.job_id, SYSTEM, limit=args.limit, offset=args.offset).items
    if args.json:
        print_json({"runs": [run.to_dict() for run in runs]})
        return
    print(
        f"{'SCHEDULED FOR':27}  {'STATUS':9}  {'STARTED':27}  {'TOOK':>9}  {'TRY':>3}  "
        f"{'TRIGGER':8}  RESULT OR ERROR"
    )
    for run in runs:
        took = f"{run.duration_ms / 1000:.3f}s" if run.duration_ms is not None else "-"
        print(
            f"{isoformat(run.scheduled_for):27}  {run.status:9}  "
            f"{isoformat(run.started_at) or '-':27}  {took:>9}  {run.attempt:>3}  "
            f"{run.trigger:8}  {_outcome(run)}"
        )


def cmd_jobs_log(args: argparse.Namespace) -> None:
    jobs = manager()
    run_id = args.run_id
    if run_id is None:  # the newest run that ran: missed, skipped and waiting rows log nothing
        runs = jobs.list_runs(args.job_id, SYSTEM, limit=100).items
        run_id = next((run.id for run in runs if run.started_at is not None), None)
        if run_id is None:
            raise ConfigurationError("it has no run that started yet (see cronbase jobs history)")
    run = jobs.get_run(args.job_id, run_id, SYSTEM)
    if args.json:
        print_json({"run": run.to_dict()})
        return
    took = f", took {run.duration_ms / 1000:.3f}s" if run.duration_ms is not None else ""
    print(
        f"run {run.id}: {run.status}, scheduled for {isoformat(run.scheduled_for)}, "
        f"started {isoformat(run.started_at)}{took}, attempt {run.attempt}, {run.trigger}"
    )
    if run.error:
        print(f"error: {run.error}")
    for title, text in (("traceback", run.traceback), ("log", run.log)):
        print(f"--- {title} ---" if text else f"--- {title}: none ---")
        if text:
            print(text.rstrip("\n"))


def _outcome(run: Run) -> str:
    """The run's error or result (as JSON, as the API gives it) on one line, cut to a screen's
    width."""
    result = json.dumps(run.result, ensure_ascii=False) if run.result is not None else ""
    text = run.error or result
    line = " ".join(text.split())
    return line if len(line) <= 100 else line[:99] + "…"


def cmd_jobs_next(args: argparse.Namespace) -> None:
    jobs = manager()
    job = jobs.get_job(args.job_id, SYSTEM)
    times = jobs.next_runs(job.id, SYSTEM, args.count)
    if args.json:
        print_json(
            {
                "timezone": job.timezone,
                "is_active": job.is_active,
                "next_runs": list(map(isoformat, times)),
            }
        )
        return
    if not times:
        print("on demand: it runs only when run by hand or by the jobs it depends on")
        return
    if not job.is_active:
        print("paused: resumed now, it would run at")
    zone = parse_schedule(job.schedule, job.timezone)
    for instant in times:
        print(fire_time(instant, None if zone.tz == "UTC" else zone.zone))


def cmd_jobs_explain(args: argparse.Namespace) -> None:
    found = manager().explain(args.job_id, SYSTEM).to_dict()
    if args.json:
        print_json({"explanation": found})
        return
    print(f"{found['state']}: {found['summary']}")
    for line in found["details"]:
        print(f"  {line}")
    workers = found["workers"]
    print(f"  Live workers: {workers['alive']}{_slots(workers)}.")
    for worker in workers["hosts"] or []:
        print(f"    {worker['id']} on {worker['host']} (pid {worker['pid']}){_slots(worker)}")
    if found["next_runs"] and found["timezone"] == "UTC":  # its wall clock is UTC: once
        print("Next runs (UTC):")
        for instant in found["next_runs"]:
            print(f"  {instant['utc']}")
    elif found["next_runs"]:
        print(f"Next runs ({found['timezone']} / UTC):")
        for instant in found["next_runs"]:
            print(f"  {instant['local']}  /  {instant['utc']}")


def _slots(load: dict[str, Any]) -> str:
    """`, 3 of 4 slots free` for live workers (or one worker) that said how many threads
    they have; nothing for workers that did not, or for none at all."""
    if load["free_slots"] is None or load.get("alive") == 0:
        return ""
    return f", {load['free_slots']} of {load['threads']} slots free"
