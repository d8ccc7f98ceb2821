"""`cronbase jobs list|show|add|edit|pause|resume|delete`: a job's settings. The options of
`add` and `edit` are made from the job's fields (JOB_FIELDS). Its runs and fire times are in
job_runs.py."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any

from cronbase.cli import backfill, job_audit, job_runs
from cronbase.cli.common import (
    Commands,
    add_job_id,
    add_json_flag,
    duration_arg,
    instant_arg,
    int_between,
    manager,
    operator,
    print_json,
    services,
    uuid_arg,
)
from cronbase.errors import InvalidJob
from cronbase.job_fields import FIELDS, JOB_FIELDS, SETTABLE_FIELDS, JobField
from cronbase.jobs import Job, isoformat
from cronbase.manager import SYSTEM, JobSpec
from cronbase.schedule import ON_DEMAND

# Fields whose option is not their name: `--function` reads better.
_FLAGS = {"function_name": "--function"}
# `--help` lists what a job is (name, schedule, function), then the rest in the fields' order.
_FIRST = ("name", "schedule", "function_name", "tenant_id", "timezone", "metadata", "is_active")
_ORDERED = (*_FIRST, *(f.name for f in SETTABLE_FIELDS if f.name not in _FIRST))


def register(commands: Commands) -> None:
    jobs = commands.group("jobs", "list, show, add, change, run and delete jobs")
    listing = commands.add("list", cmd_jobs_list, "list jobs", jobs)
    listing.add_argument("--tenant-id", type=uuid_arg)
    active = listing.add_mutually_exclusive_group()
    active.add_argument("--active", dest="is_active", action="store_const", const=True)
    active.add_argument("--inactive", dest="is_active", action="store_const", const=False)
    listing.add_argument("--limit", type=int_between(1, 500), default=100)
    listing.add_argument("--offset", type=int_between(0, 2**31 - 1), default=0)
    add_json_flag(listing)

    add_json_flag(add_job_id(commands.add("show", cmd_jobs_show, "show a job's settings", jobs)))

    linked = commands.add(
        "dependencies", cmd_jobs_dependencies, "show what a job runs after and before", jobs
    )
    add_json_flag(add_job_id(linked))

    backfill.add_command(
        commands.add(
            "backfill",
            backfill.cmd_jobs_backfill,
            "queue a run for each past slot of a job in a range",
            jobs,
        )
    )

    adding = commands.add("add", cmd_jobs_add, "create a job", jobs)
    for name in _ORDERED:
        _add_option(adding, FIELDS[name], editing=False)

    editing = add_job_id(
        commands.add("edit", cmd_jobs_edit, "change the given fields of a job", jobs)
    )
    for name in _ORDERED:
        _add_option(editing, FIELDS[name], editing=True)
    _add_mute_options(editing)

    add_job_id(commands.add("pause", cmd_jobs_pause, "pause a job (it runs no slot)", jobs))
    add_job_id(commands.add("resume", cmd_jobs_resume, "resume a paused job", jobs))
    deleting = add_job_id(
        commands.add("delete", cmd_jobs_delete, "delete a job and its runs", jobs)
    )
    deleting.add_argument(
        "--detach",
        action="store_true",
        help="if other jobs depend on it, remove their dependencies on it first",
    )
    job_runs.register(commands, jobs)
    job_audit.register(commands, jobs)


def _add_mute_options(editing: argparse.ArgumentParser) -> None:
    """As `channels update` mutes a channel: for a while, or no longer (beside --muted-until)."""
    muting = editing.add_mutually_exclusive_group()
    muting.add_argument(
        "--mute-for",
        type=duration_arg,
        metavar="DURATION",
        default=argparse.SUPPRESS,
        help="send no alert about it for 8h, 2d, ...",
    )
    muting.add_argument(
        "--unmute", action="store_true", default=argparse.SUPPRESS, help="end its mute now"
    )


def _add_option(parser: argparse.ArgumentParser, job_field: JobField, *, editing: bool) -> None:
    """The `jobs add` or `jobs edit` option that sets `job_field`. Editing, an option left out
    leaves the field as it is, and a field that may be null takes `null`."""
    options: dict[str, Any] = {"help": job_field.cli_help, "dest": job_field.name}
    if editing:
        options["default"] = argparse.SUPPRESS
    if job_field.name == "is_active":
        if editing:
            group = parser.add_mutually_exclusive_group()
            del options["help"]
            group.add_argument(
                "--active", action="store_const", const=True, help="resume it", **options
            )
            group.add_argument(
                "--inactive", action="store_const", const=False, help="pause it", **options
            )
        else:
            # stores True when given: `add` turns it round (the option is --inactive)
            parser.add_argument("--inactive", action="store_true", **options)
        return
    flag = _FLAGS.get(job_field.name, "--" + job_field.name.replace("_", "-"))
    if job_field.name in _FLAGS:  # shown as the flag says, not as the field is named
        options["metavar"] = flag.removeprefix("--").upper()
    if job_field.name == "depends_on":  # once per upstream; the command reads ID[:ON]
        options.update(action="append", metavar="ID[:ON]")
        parser.add_argument("--depends-on", **options)
        return
    if job_field.name == "metadata":
        options["default"] = options.get("default", "{}")
    elif not editing:
        if job_field.required:
            options["required"] = True
        else:
            options["default"] = job_field.default_value()
    if job_field.choices is not None:
        options["choices"] = [choice.value for choice in job_field.choices]
    elif job_field.type is not str and job_field.name != "metadata":
        kind = uuid_arg if job_field.name == "tenant_id" else job_field.type
        if job_field.type is datetime:
            kind = instant_arg
        options["type"] = _or_null(kind) if editing and job_field.client_nullable else kind
    parser.add_argument(flag, **options)


def _or_null(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(value: str) -> Any:
        return None if value == "null" else kind(value)

    parse.__name__ = getattr(kind, "__name__", "value")  # what argparse names in its errors
    return parse


def _metadata(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidJob([("metadata", f"is not valid JSON: {exc}")]) from exc


def cmd_jobs_list(args: argparse.Namespace) -> None:
    jobs = (
        manager()
        .list_jobs(
            SYSTEM,
            tenant_id=args.tenant_id,
            is_active=args.is_active,
            limit=args.limit,
            offset=args.offset,
        )
        .items
    )
    if args.json:
        print_json({"jobs": [job.to_dict() for job in jobs]})
        return
    print(
        f"{'ID':36}  {'ACTIVE':6}  {'NEXT RUN':20}  {'LAST RUN':27}  {'LAST STATUS':11}  "
        f"{'SCHEDULE':20}  {'PRIO':>5}  {'TIMEOUT':>7}  {'TRIES':>5}  {'ISOLATION':9}  NAME"
    )
    for job in jobs:
        print(_row(job))


def _row(job: Job) -> str:
    timeout = f"{job.timeout_seconds}s" if job.timeout_seconds else "-"
    next_run = "on demand" if job.schedule == ON_DEMAND else isoformat(job.next_run) or "-"
    if not job.is_active and job.schedule != ON_DEMAND:
        # A paused job runs no slot; its stored next_run is recomputed from now on resume,
        # so it is not when it will run (the Web UI says "paused" too).
        next_run = "paused"
    return (
        f"{job.id!s:36}  {'yes' if job.is_active else 'no':6}  "
        f"{next_run:20}  {isoformat(job.last_run) or '-':27}  "
        f"{job.last_status or '-':11}  {job.schedule:20}  {job.priority:>5}  "
        f"{timeout:>7}  {job.max_attempts:>5}  {job.isolation:9}  {job.name}"
    )


def cmd_jobs_dependencies(args: argparse.Namespace) -> None:
    found = manager().dependencies(args.job_id, SYSTEM)
    if args.json:
        print_json(
            {
                "job": found.job.to_dict(),
                **{
                    side: [
                        {"id": str(job.id), "name": job.name, "depth": link.depth, "on": link.on}
                        for link, job in pairs
                    ]
                    for side, pairs in (
                        ("upstream", found.upstream),
                        ("downstream", found.downstream),
                    )
                },
            }
        )
        return
    # In running order: the farthest upstream first, the farthest dependent last.
    job = found.job
    print("runs after:" if found.upstream else "runs after: nothing")
    for link, up in sorted(found.upstream, key=lambda pair: -pair[0].depth):
        print(f"  [{link.depth}] {up.name} ({up.id}, {up.schedule}) -- on {link.on}")
    print(f"> {job.name} ({job.id}, {job.schedule}, wait_for {job.wait_for})")
    print("runs before:" if found.downstream else "runs before: nothing")
    for link, down in found.downstream:
        print(f"  [{link.depth}] {down.name} ({down.id}, {down.schedule}) -- on {link.on}")


def _dependency(text: str) -> dict[str, str]:
    """`ID` or `ID:on`, as the API's {"job_id", "on"} (the manager checks both)."""
    job_id, _, on = text.partition(":")
    return {"job_id": job_id, "on": on or "success"}


def cmd_jobs_show(args: argparse.Namespace) -> None:
    job = manager().get_job(args.job_id, SYSTEM)
    if args.json:
        print_json({"job": job.to_dict()})
        return
    data = job.to_dict()
    width = max(len(f.name) for f in JOB_FIELDS)
    for f in JOB_FIELDS:
        value = data[f.name]
        text = json.dumps(value) if isinstance(value, dict) else "-" if value is None else value
        print(f"{f.name:{width}}  {text}")


def cmd_jobs_add(args: argparse.Namespace) -> None:
    values = {f.name: getattr(args, f.name) for f in SETTABLE_FIELDS}
    values["metadata"] = _metadata(args.metadata)
    values["is_active"] = not args.is_active  # the option is --inactive
    values["depends_on"] = [_dependency(text) for text in args.depends_on or []]
    print_json(services().manager.create_job(JobSpec(**values), operator()).to_dict())


def cmd_jobs_edit(args: argparse.Namespace) -> int:
    changes = {f.name: getattr(args, f.name) for f in SETTABLE_FIELDS if hasattr(args, f.name)}
    muting = [flag for flag in ("mute_for", "unmute") if hasattr(args, flag)]
    if muting and "muted_until" in changes:
        flag = "--" + muting[0].replace("_", "-")
        print(f"error: give one of --muted-until and {flag}, not both", file=sys.stderr)
        return 2
    if not changes and not muting:
        print(
            "error: nothing to change: give the fields to change, e.g. --schedule hourly "
            "(see cronbase jobs edit --help)",
            file=sys.stderr,
        )
        return 2
    deployment = services()
    if hasattr(args, "mute_for"):
        changes["muted_until"] = deployment.manager.clock.now() + args.mute_for
    elif hasattr(args, "unmute"):
        changes["muted_until"] = None
    if "metadata" in changes:
        changes["metadata"] = _metadata(changes["metadata"])
    if "depends_on" in changes:
        changes["depends_on"] = [_dependency(text) for text in changes["depends_on"]]
    print_json(deployment.manager.update_job(args.job_id, changes, operator()).to_dict())
    return 0


def cmd_jobs_pause(args: argparse.Namespace) -> None:
    job = services().manager.update_job(args.job_id, {"is_active": False}, operator())
    print(f"paused {job.name} ({job.id})")


def cmd_jobs_resume(args: argparse.Namespace) -> None:
    job = services().manager.update_job(args.job_id, {"is_active": True}, operator())
    print(f"resumed {job.name} ({job.id}); next run {isoformat(job.next_run)}")


def cmd_jobs_delete(args: argparse.Namespace) -> None:
    jobs = manager()
    job = jobs.get_job(args.job_id, SYSTEM)
    jobs.delete_job(job.id, operator(), detach=args.detach)
    print(f"deleted {job.name} ({job.id}) and its runs")
