"""Job functions the acceptance tests load through CRONBASE_JOB_MODULES."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from cronbase.registry import JobContext, registry


@registry.job("slowNoop", description="Sleep a little (retries: retry_sleep), report the process.")
def slow_noop(ctx: JobContext) -> dict[str, Any]:
    sleep = (
        ctx.metadata.get("sleep", 0.005) if ctx.attempt == 1 else ctx.metadata.get("retry_sleep", 0)
    )
    time.sleep(float(sleep))
    return {"pid": os.getpid()}


@registry.job("neverReturns", description="Block forever, ignoring the cancel request.")
def never_returns(_ctx: JobContext) -> dict[str, Any]:
    threading.Event().wait()
    return {}


@registry.job("alwaysFails", description="Raise an error.")
def always_fails(ctx: JobContext) -> dict[str, Any]:
    raise RuntimeError(f"attempt {ctx.attempt} failed")


@registry.job("logsThenFails", description="Log a line, then raise from a helper.")
def logs_then_fails(ctx: JobContext) -> dict[str, Any]:
    ctx.logger.info("reading the settings")
    return _read_settings({})


def _read_settings(settings: dict[str, Any]) -> dict[str, Any]:
    return {"value": settings["missing"]}
