"""Burst (or Spread) on Procrastinate 3.10: n no-op jobs deferred with one scheduled_at instant
(or evenly spaced over SPREAD seconds from it), run by one in-process worker (concurrency 10,
default polling interval).

Usage: python procrastinate_burst.py CONNINFO N LEAD_SECONDS [SPREAD_SECONDS]
  -> prints one JSON line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from datetime import UTC, datetime, timedelta

import procrastinate
from peer_stats import CpuAtDue, summary

STARTS: dict[int, float] = {}
FINISHES: dict[int, float] = {}
app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=sys.argv[1]))


@app.task(name="noop")
async def noop(i: int) -> None:
    STARTS[i] = time.time()
    FINISHES[i] = time.time()


async def run(n: int, lead: float, spread: float) -> dict[str, float]:
    step = spread / n
    async with app.open_async():
        await app.schema_manager.apply_schema_async()
        far = datetime.now(UTC) + timedelta(days=365)
        for start in range(0, n, 1000):
            await noop.configure(schedule_at=far).batch_defer_async(
                *({"i": i} for i in range(start, min(start + 1000, n)))
            )
        due = datetime.now(UTC) + timedelta(seconds=lead)
        at_due = CpuAtDue(due.timestamp())
        async with app.connector.pool.connection() as conn:  # type: ignore[attr-defined]
            await conn.execute(
                "UPDATE procrastinate_jobs SET scheduled_at = %s"
                " + CAST(args->>'i' AS int) * %s * interval '1 second'",
                (due, step),
            )
        worker = asyncio.create_task(app.run_worker_async(concurrency=10, wait=True))
        await asyncio.sleep(0.5)
        ready_late = time.time() - due.timestamp()
        deadline = time.time() + lead + spread + max(120, n / 20)
        while len(FINISHES) < n and time.time() < deadline:
            await asyncio.sleep(0.05)
        at_due.stop()
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(worker, 30)
    if len(FINISHES) < n:
        raise SystemExit(f"only {len(FINISHES)} of {n} ran")
    return summary(due.timestamp(), step, STARTS, FINISHES, ready_late, at_due)


if __name__ == "__main__":
    spread = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    result = asyncio.run(run(int(sys.argv[2]), float(sys.argv[3]), spread))
    print(json.dumps(result))  # noqa: T201 - the bench reads this line
