"""`cronbase jobs audit ID`: who created, changed, paused, resumed, deleted, ran or backfilled a
job, when, and what changed (cronbase.audit), newest first."""

from __future__ import annotations

import argparse
import json
from typing import Any

from cronbase.audit import AuditEntry
from cronbase.cli.common import (
    Commands,
    add_job_id,
    add_json_flag,
    int_between,
    manager,
    print_json,
)
from cronbase.jobs import isoformat
from cronbase.manager import SYSTEM

_WIDE = 60  # a value longer than this is cut in the table (--json has it whole)


def register(commands: Commands, jobs: object) -> None:
    """Add the command to the `jobs` group made by jobs.py."""
    audit = commands.add(
        "audit", cmd_jobs_audit, "show who changed, ran or deleted a job, and when", jobs
    )
    add_job_id(audit)
    audit.add_argument("--limit", type=int_between(1, 500), default=50)
    audit.add_argument("--cursor", help="the next_cursor a previous page printed")
    add_json_flag(audit)


def cmd_jobs_audit(args: argparse.Namespace) -> None:
    page = manager().job_audit(args.job_id, SYSTEM, cursor=args.cursor, limit=args.limit)
    if args.json:
        entries = [entry.to_dict() for entry in page.items]
        print_json({"entries": entries, "next_cursor": page.next_cursor})
        return
    if not page.items:
        print("no entries")
    for entry in page.items:
        who = f"{entry.actor or '-'} ({entry.actor_role})"
        print(f"{isoformat(entry.at):27}  {entry.action!s:18}  {who:30}  {describe(entry)}")
    if page.next_cursor:
        print(f"older entries: cronbase jobs audit {args.job_id} --cursor {page.next_cursor}")


def describe(entry: AuditEntry) -> str:
    """What changed or what was made, on one line: `schedule: "hourly" -> "daily"`."""
    if entry.action == "created" and entry.changes:
        made = {name: change["to"] for name, change in entry.changes.items()}
        shown = [name for name in ("name", "schedule", "function_name") if name in made]
        return ", ".join(f"{name}={_value(made[name])}" for name in shown)
    parts = [
        f"{name}: {_value(change['from'])} -> {_value(change['to'])}"
        for name, change in (entry.changes or {}).items()
    ]
    if entry.detail:
        parts.append(", ".join(f"{name}={_value(value)}" for name, value in entry.detail.items()))
    return "; ".join(parts)


def _value(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _WIDE else text[: _WIDE - 1] + "…"
