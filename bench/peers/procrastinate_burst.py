"""Burst on Procrastinate 3.10: n no-op jobs deferred with one scheduled_at instant, run by one
in-process worker (concurrency 10, default polling interval).

Usage: python procrastinate_burst.py CONNINFO N LEAD_SECONDS  -> prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from datetime import UTC, datetime, timedelta

import procrastinate

STARTS: list[float] = []
FINISHES: list[float] = []
app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=sys.argv[1]))


@app.task(name="noop")
async def noop() -> None:
    STARTS.append(time.time())
    FINISHES.append(time.time())


async def run(n: int, lead: float) -> dict[str, float]:
    async with app.open_async():
        await app.schema_manager.apply_schema_async()
        far = datetime.now(UTC) + timedelta(days=365)
        for start in range(0, n, 1000):
            await noop.configure(schedule_at=far).batch_defer_async(
                *({} for _ in range(min(1000, n - start)))
            )
        due = datetime.now(UTC) + timedelta(seconds=lead)
        async with app.connector.pool.connection() as conn:  # type: ignore[attr-defined]
            await conn.execute(
                "UPDATE procrastinate_jobs SET scheduled_at = %s", (due,)
            )
        worker = asyncio.create_task(app.run_worker_async(concurrency=10, wait=True))
        await asyncio.sleep(0.5)
        ready_late = time.time() - due.timestamp()
        deadline = time.time() + lead + max(120, n / 20)
        while len(FINISHES) < n and time.time() < deadline:
            await asyncio.sleep(0.05)
        worker.cancel()
        try:
            await asyncio.wait_for(worker, 30)
        except (asyncio.CancelledError, TimeoutError):
            pass
    if len(FINISHES) < n:
        raise SystemExit(f"only {len(FINISHES)} of {n} ran")
    lags = sorted(t - due.timestamp() for t in STARTS)
    wall = max(FINISHES) - due.timestamp()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "wall_s": wall, "per_s": n / wall, "lag_p50": lags[len(lags) // 2],
        "lag_p99": lags[max(int(len(lags) * 0.99 + 0.999999) - 1, 0)], "lag_max": lags[-1],
        "rss_mib": usage.ru_maxrss / 1024,
        "cpu_ms_per_job": (usage.ru_utime + usage.ru_stime) * 1000 / n,
        "ready_late_s": ready_late,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run(int(sys.argv[2]), float(sys.argv[3])))))
