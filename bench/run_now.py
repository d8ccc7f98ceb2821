"""Scenario 9, run now on an idle worker: from `POST /api/cron/jobs/{id}/run` to the run's start.

One `cronbase worker` (default settings: it polls every 5 s) and one API server without a worker
(`uvicorn --factory cronbase.api.app:create_app_from_env`) on a scratch database with one no-op
job due in a day, so the worker is asleep when each request comes. Each request waits for the
previous run to finish and then a random 0.2-0.5 s, and is timed from just before it is sent to
its run's `started_at` (the worker's clock, the same machine's). For comparison, a few requests
with the worker polling only (`CRONBASE_PGBOUNCER=1`, as behind PgBouncer: no LISTEN).
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from harness import (
    CRONBASE,
    Proc,
    cronbase_env,
    engine_for,
    insert_noop_jobs,
    median,
    now,
    percentile,
    scratch_postgres,
    start_api,
    superadmin_token,
)

from cronbase.store.tables import cron_job, cron_job_run

Row = tuple[str, str, str, Any]
SCENARIO = "9 Run now"


POLLING_REQUESTS = 10  # at 2.5 s each on average: a few make the point


def scenario_run_now(requests: int, repeats: int, log_dir: Path) -> list[Row]:
    listening = _measure(requests, repeats, log_dir, {})
    polling = _measure(POLLING_REQUESTS, 1, log_dir, {"CRONBASE_PGBOUNCER": "1"})
    rows = []
    for (p50, p99), setting in (
        (listening, f"{requests} requests, idle worker woken by NOTIFY, HTTP API"),
        (polling, f"{POLLING_REQUESTS} requests, idle worker polling every 5 s (no LISTEN)"),
    ):
        rows.append(
            (SCENARIO, setting, "request to start p50 / p99 (ms)", f"{p50:,.1f} / {p99:,.1f}")
        )
    return rows


def _measure(
    requests: int, repeats: int, log_dir: Path, extra: dict[str, str]
) -> tuple[float, float]:
    with scratch_postgres("runnow") as url:
        engine = engine_for(url)
        insert_noop_jobs(engine, 1, now() + timedelta(days=1))
        with engine.connect() as conn:
            job_id = conn.execute(sa.select(cron_job.c.id)).scalar_one()
        env = cronbase_env(url, **extra)
        token = superadmin_token(env)
        server, base = start_api(env, log_dir, "uvicorn-run-now")
        worker = Proc([CRONBASE, "worker"], env, log_dir, "worker-run-now")
        try:
            worker.wait_for_log("started")
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as http:
                runs = [_latencies(http, engine, job_id, requests) for _ in range(repeats)]
        finally:
            worker.stop()
            server.stop()
            engine.dispose()
    return median([r[0] for r in runs]), median([r[1] for r in runs])


def _latencies(
    http: httpx.Client, engine: sa.Engine, job_id: Any, requests: int
) -> tuple[float, float]:
    lags = []
    for _ in range(requests):
        time.sleep(random.uniform(0.2, 0.5))  # the worker goes back to sleep
        sent = datetime.now(UTC)
        answer = http.post(f"/api/cron/jobs/{job_id}/run")
        answer.raise_for_status()
        run_id = answer.json()["data"]["run"]["id"]
        started = _wait_finished(engine, run_id)
        lags.append((started - sent).total_seconds() * 1000)
    return percentile(lags, 50), percentile(lags, 99)


def _wait_finished(engine: sa.Engine, run_id: str, timeout: float = 30.0) -> datetime:
    """The run's started_at, once it has finished (so the worker is idle again)."""
    query = sa.select(cron_job_run.c.started_at, cron_job_run.c.finished_at).where(
        cron_job_run.c.id == sa.bindparam("id", type_=sa.Uuid())
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            started, finished = conn.execute(query, {"id": run_id}).one()
        if finished is not None:
            return started
        time.sleep(0.01)
    raise TimeoutError(f"run {run_id} did not finish within {timeout}s")
