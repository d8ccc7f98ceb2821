"""Job functions that log, for the run-log tests: module-level, so that a child process
(isolation "process") can import them too."""

from __future__ import annotations

import threading
from typing import Any

from cronbase.registry import JobContext, JobGroup, JobRegistry

# Two runs of `log_in_turns` meet here before each line, so their lines interleave.
TURNS = threading.Barrier(2, timeout=10)


def log_and_succeed(ctx: JobContext) -> dict[str, Any]:
    ctx.logger.info("starting batch %d", ctx.metadata.get("batch", 0))
    ctx.logger.warning("the mail server is slow")
    return {"sent": 3}


def _read(settings: dict[str, str]) -> str:
    return settings["missing"]


def _configure(_ctx: JobContext) -> str:
    return _read({})


def log_then_fail_deep(ctx: JobContext) -> dict[str, Any]:
    ctx.logger.info("reading the settings")
    _configure(ctx)
    return {}


def log_then_hang(ctx: JobContext) -> dict[str, Any]:
    ctx.logger.info("waiting for the remote side")
    while not ctx.cancelled.wait(0.05):  # in a child process, nobody sets it: killed instead
        pass
    ctx.logger.info("gave up: this line comes after the run was recorded")
    return {}


def log_a_lot(ctx: JobContext) -> dict[str, Any]:
    ctx.logger.info("FIRST LINE")
    for n in range(3000):
        ctx.logger.info("line %04d %s", n, "x" * 80)
    ctx.logger.info("LAST LINE")
    return {}


def log_in_turns(ctx: JobContext) -> dict[str, Any]:
    who = ctx.metadata["who"]
    for n in range(50):
        TURNS.wait()
        ctx.logger.info("%s line %d", who, n)
    return {}


def log_from_own_thread(ctx: JobContext) -> dict[str, Any]:
    thread = threading.Thread(target=ctx.logger.info, args=("from the job's own thread",))
    thread.start()
    thread.join()
    return {}


logging_jobs = JobGroup()
for _func in (
    log_and_succeed,
    log_then_fail_deep,
    log_then_hang,
    log_a_lot,
    log_in_turns,
    log_from_own_thread,
):
    logging_jobs.job(_func.__name__)(_func)


def logging_registry() -> JobRegistry:
    return JobRegistry(logging_jobs)
