"""Calling a job's function for a claimed run: in this process's thread, with a JobContext on
a connection of the store, or in a child process (isolation "process", see isolation.py)."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from cronbase.jobs import Isolation
from cronbase.registry import JobContext, JobRegistry, checked_result
from cronbase.runner.isolation import ChildJob, call_in_child
from cronbase.runner.pool import Execution
from cronbase.store import Store


def call_job(
    store: Store, registry: JobRegistry, execution: Execution, cancelled: threading.Event
) -> dict[str, Any]:
    """Call the job's function in its own transaction: committed when it returns, rolled back
    when it raises. Return its checked result; raise whatever it raised (or why it could not
    be called)."""
    claim = execution.claim
    job = claim.job
    function = registry.get(job.function_name)
    metadata = dict(job.metadata) if isinstance(job.metadata, dict) else {}
    if job.isolation == Isolation.PROCESS:
        child = ChildJob(
            job.id,
            job.tenant_id,
            metadata,
            claim.slot,
            execution.started,
            claim.attempt,
            claim.triggered_by,
        )
        url = store.engine.url.render_as_string(hide_password=False)
        name = job.function_name or ""
        return call_in_child(name, function.func, url, child, cancelled, execution.log)
    with contextlib.ExitStack() as opened:
        context = JobContext(
            job_id=job.id,
            tenant_id=job.tenant_id,
            metadata=metadata,
            scheduled_for=claim.slot,
            now=execution.started,
            logger=execution.log.logger(f"cronbase.job.{job.function_name}"),
            cancelled=cancelled,
            attempt=claim.attempt,
            triggered_by=claim.triggered_by,
            connect=lambda: opened.enter_context(store.connection()),
        )
        result = checked_result(function.func(context), job.function_name)
        if context.connected:
            context.connection.commit()
    return result
