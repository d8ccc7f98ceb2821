"""Helpers shared by the test modules: waiting for a condition, making jobs, reading run history.

The fixtures that wrap them (`manager`, `make_job`) are in tests/conftest.py; tests that build
their own store or manager (a test on one backend only, a worker in another process) call these
functions directly.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from cronbase.jobs import Job
from cronbase.manager import SYSTEM, JobManager, JobSpec
from cronbase.registry import JobContext, JobRegistry
from cronbase.runner import Runner
from cronbase.store import SqlStore
from cronbase.store.tables import cron_job, cron_job_run

MakeJob = Callable[..., Job]  # the `make_job` fixture


def wait_until(
    condition: Callable[[], Any],
    *,
    what: str,
    timeout: float = 30.0,
    interval: float = 0.05,
    state: Callable[[], Any] | None = None,
) -> float:
    """Poll `condition()` until it is true; return the seconds that took.

    Fails with `what` (and `state()`, when given: what the test saw) once `timeout` seconds have
    gone by, so a condition that never comes true is a failure that says what was awaited.
    """
    start = time.monotonic()
    while not condition():
        waited = time.monotonic() - start
        if waited > timeout:
            seen = f"; state: {state()}" if state else ""
            raise AssertionError(f"waited {waited:.1f}s for {what}, in vain{seen}")
        time.sleep(interval)
    return time.monotonic() - start


def wait_for_runs_to_end(runner: Runner, timeout: float = 30.0) -> None:
    """Let `runner` collect and record runs until none is going, waiting or unrecorded.

    (One `runner.wait(n)` is not enough: it returns as soon as any run ends, even a run that was
    recorded timed out earlier.)
    """

    def idle() -> bool:
        runner.wait(0.1)
        return not runner.busy

    wait_until(
        idle, what="the runs in progress to end and be recorded", timeout=timeout, interval=0
    )


def create_job(manager: JobManager, function_name: str, /, **fields: Any) -> Job:
    """A job made through the manager, as a user makes one: validated, scheduled, stored.

    It is named after its function and runs every five minutes unless `fields` say otherwise.
    """
    spec = {"name": function_name, "schedule": "every_5_minutes", **fields}
    return manager.create_job(JobSpec(function_name=function_name, **spec), SYSTEM)


def run_history(store: SqlStore) -> list[sa.Row[Any]]:
    """Every run row with its job's name (`job_name`): oldest slot first, then attempt, start."""
    query = (
        sa.select(cron_job_run, cron_job.c.name.label("job_name"))
        .outerjoin(cron_job, cron_job.c.id == cron_job_run.c.job_id)
        .order_by(cron_job_run.c.scheduled_for, cron_job_run.c.attempt, cron_job_run.c.started_at)
    )
    with store.reading() as conn:
        return list(conn.execute(query).all())


def note_long_boom_registry(gate: threading.Event) -> JobRegistry:
    """Three job functions: `note` succeeds, `long` runs until `gate` is set (30 s at most),
    `boom` raises RuntimeError("boom"). For a module's `registry` fixture, with `gate`'s."""
    registry = JobRegistry()

    @registry.job("note")
    def note(_ctx: JobContext) -> dict[str, Any]:
        return {}

    @registry.job("long")
    def long(_ctx: JobContext) -> dict[str, Any]:
        gate.wait(30)
        return {}

    @registry.job("boom")
    def boom(_ctx: JobContext) -> dict[str, Any]:
        raise RuntimeError("boom")

    return registry


def recording_registry(calls: list[JobContext]) -> JobRegistry:
    """A registry of one job function, "record", which appends its context to `calls`."""
    registry = JobRegistry()

    @registry.job("record")
    def record(ctx: JobContext) -> dict[str, Any]:
        calls.append(ctx)
        return {}

    return registry
