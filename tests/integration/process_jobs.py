"""Job functions for process isolation tests.

A child process imports a job function by its module and name, so these live at module level
in an importable module rather than inside a test.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import sqlalchemy as sa

from cronbase.jobs import isoformat
from cronbase.registry import JobContext

# A table of its own (the fixture creates it), so a test sees what a child wrote and committed.
marks = sa.Table(
    "process_mark",
    sa.MetaData(),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
)


def _mark(ctx: JobContext, name: str) -> None:
    ctx.connection.execute(marks.insert().values(name=name, pid=os.getpid()))


def describe_itself(ctx: JobContext) -> dict[str, Any]:
    _mark(ctx, "described")
    return {
        "pid": os.getpid(),
        "job_id": str(ctx.job_id),
        "tenant_id": str(ctx.tenant_id),
        "metadata": ctx.metadata,
        "scheduled_for": isoformat(ctx.scheduled_for),
        "now": isoformat(ctx.now),
        "logger": ctx.logger.name,
    }


def do_nothing(_ctx: JobContext) -> None:
    return None


def write_then_raise(ctx: JobContext) -> dict[str, Any]:
    _mark(ctx, "before the error")
    raise ValueError("the job failed on purpose")


def return_a_set(_ctx: JobContext) -> Any:
    return {1, 2}


def sleep_forever(ctx: JobContext) -> dict[str, Any]:
    _mark(ctx, "asleep")
    ctx.connection.commit()  # the test reads the pid from this row
    _mark(ctx, "never committed")
    while True:
        time.sleep(60)


def exit_with_code_3(_ctx: JobContext) -> dict[str, Any]:
    os._exit(3)


def kill_itself(_ctx: JobContext) -> dict[str, Any]:
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")
