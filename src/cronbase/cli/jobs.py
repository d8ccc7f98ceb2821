"""`cronbase jobs list|add`. The options of `add` are made from the job's fields (JOB_FIELDS)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from cronbase.cli.common import Commands, int_between, manager, print_json, services, uuid_arg
from cronbase.errors import InvalidJob
from cronbase.job_fields import FIELDS, SETTABLE_FIELDS, JobField
from cronbase.jobs import Job, isoformat
from cronbase.manager import SYSTEM, JobSpec
from cronbase.schedule import ON_DEMAND

# Fields whose option is not their name: `--function` and `--inactive` read better.
_FLAGS = {"function_name": "--function"}
# Given to `add_argument` as is; the command turns them into the field's value.
_SPECIAL_OPTIONS: dict[str, dict[str, Any]] = {
    "is_active": {"flags": ["--inactive"], "action": "store_true"},
    "metadata": {"flags": ["--metadata"], "default": "{}"},
    "depends_on": {"flags": ["--depends-on"], "action": "append", "metavar": "ID[:ON]"},
}
# `--help` lists what a job is (name, schedule, function), then the rest in the fields' order.
_FIRST = ("name", "schedule", "function_name", "tenant_id", "timezone", "metadata", "is_active")


def register(commands: Commands) -> None:
    jobs = commands.group("jobs", "list and add jobs")
    listing = commands.add("list", cmd_jobs_list, "list jobs", jobs)
    listing.add_argument("--tenant-id", type=uuid_arg)
    active = listing.add_mutually_exclusive_group()
    active.add_argument("--active", dest="is_active", action="store_const", const=True)
    active.add_argument("--inactive", dest="is_active", action="store_const", const=False)
    listing.add_argument("--limit", type=int_between(1, 500), default=100)
    listing.add_argument("--offset", type=int_between(0, 2**31 - 1), default=0)
    listing.add_argument("--json", action="store_true", help="print the seed's job objects")

    linked = commands.add(
        "dependencies", cmd_jobs_dependencies, "show what a job runs after and before", jobs
    )
    linked.add_argument("job_id", type=uuid_arg, metavar="ID")
    linked.add_argument("--json", action="store_true")

    adding = commands.add("add", cmd_jobs_add, "create a job", jobs)
    rest = [f.name for f in SETTABLE_FIELDS if f.name not in _FIRST]
    for name in (*_FIRST, *rest):
        _add_option(adding, FIELDS[name])


def _add_option(parser: argparse.ArgumentParser, job_field: JobField) -> None:
    """The `jobs add` option that sets `job_field`: its flag, type, default, choices, help."""
    options: dict[str, Any] = {"help": job_field.cli_help}
    if job_field.name in _SPECIAL_OPTIONS:
        options.update(_SPECIAL_OPTIONS[job_field.name])
        flags = options.pop("flags")
    else:
        flags = [_FLAGS.get(job_field.name, "--" + job_field.name.replace("_", "-"))]
        if job_field.name in _FLAGS:  # shown as the flag says, not as the field is named
            options["metavar"] = flags[0].removeprefix("--").upper()
        if job_field.required:
            options["required"] = True
        else:
            options["default"] = job_field.default_value()
        if job_field.choices is not None:
            options["choices"] = [choice.value for choice in job_field.choices]
        elif job_field.type is not str:
            options["type"] = uuid_arg if job_field.name == "tenant_id" else job_field.type
    parser.add_argument(*flags, dest=job_field.name, **options)


def cmd_jobs_list(args: argparse.Namespace) -> None:
    jobs = manager().list_jobs(
        SYSTEM,
        tenant_id=args.tenant_id,
        is_active=args.is_active,
        limit=args.limit,
        offset=args.offset,
    )
    if args.json:
        print_json({"jobs": [job.to_dict() for job in jobs]})
        return
    print(
        f"{'ID':36}  {'ACTIVE':6}  {'NEXT RUN':20}  {'SCHEDULE':20}  {'PRIO':>5}  "
        f"{'TIMEOUT':>7}  {'TRIES':>5}  {'ISOLATION':9}  NAME"
    )
    for job in jobs:
        print(_row(job))


def _row(job: Job) -> str:
    timeout = f"{job.timeout_seconds}s" if job.timeout_seconds else "-"
    next_run = "on demand" if job.schedule == ON_DEMAND else isoformat(job.next_run) or "-"
    return (
        f"{job.id!s:36}  {'yes' if job.is_active else 'no':6}  "
        f"{next_run:20}  {job.schedule:20}  {job.priority:>5}  "
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


def cmd_jobs_add(args: argparse.Namespace) -> None:
    jobs = services().manager
    values = {f.name: getattr(args, f.name) for f in SETTABLE_FIELDS}
    try:
        values["metadata"] = json.loads(args.metadata)
    except json.JSONDecodeError as exc:
        raise InvalidJob([("metadata", f"is not valid JSON: {exc}")]) from exc
    values["is_active"] = not args.is_active  # the option is --inactive
    values["depends_on"] = [_dependency(text) for text in args.depends_on or []]
    print_json(jobs.create_job(JobSpec(**values), SYSTEM).to_dict())
