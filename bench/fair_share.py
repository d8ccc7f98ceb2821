"""Fair share between tenants, measured on the local PostgreSQL (see bench/README.md).

1. The claim at 100,000 due jobs: one claim of 500, as a worker with 8 threads makes it
   (cap 4 per tenant), timed inside a transaction that is rolled back so every repeat sees
   the same table. Three shapes: all jobs global (no cap applies), 100 tenants of 1,000 jobs,
   and the same with one tenant's 1,000 jobs at priority 1000 and that tenant at its cap (the
   claim walks past its rows).
2. The burst: N no-op jobs due at one instant, run by 2 `cronbase worker` processes, all global
   or spread over 100 tenants (each worker then keeps at most 2 of one tenant's runs in flight).

    .venv/bin/python bench/fair_share.py [--jobs 10000] [--repeats 3] [--lead 4] [--skip-burst]
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from tempfile import mkdtemp

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scenarios
import sqlalchemy as sa
from harness import engine_for, insert_noop_jobs, median, now, scratch_postgres
from scenarios import burst_once

from cronbase.fair_share import TenantShares
from cronbase.runner.planning import plan_slots
from cronbase.store import claim_queries, claims
from cronbase.store.tables import tenants

DUE = 100_000
TENANTS = 100
CLAIM = 500
QUIET = timedelta(hours=1)  # alerts' quiet period, which the claim's run.missed events use


def say(line: str) -> None:
    print(line, flush=True)  # noqa: T201 - a bench script prints its figures


def _spread_over_tenants(engine: sa.Engine, ids: list[uuid.UUID]) -> None:
    """Give job k the tenant k mod len(ids) (0: global keeps every job global)."""
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE cron_job SET tenant_id = NULL, priority = 0"))
        if ids:
            conn.execute(
                sa.text(
                    "UPDATE cron_job SET tenant_id = (CAST(:ids AS uuid[]))"
                    "[1 + (abs(hashtext(id::text)) % :n)]"
                ),
                {"ids": [str(i) for i in ids], "n": len(ids)},
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE cron_job")  # no dead rows left for a claim to skip


def _explain(engine: sa.Engine, shares: TenantShares | None) -> str:
    """The claim query's own cost in the server (EXPLAIN ANALYZE, rolled back): its run
    time, the index it walks and how many rows of full tenants it walked past."""
    full = shares.full() if shares is not None else None
    query = claim_queries.select_claimable(now(), CLAIM, full, engine.dialect.name)
    compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
    times, plan = [], []
    for _ in range(5):
        with engine.connect() as conn:
            plan = [line for (line,) in conn.exec_driver_sql(f"EXPLAIN ANALYZE {compiled}")]
            conn.rollback()
        times.append(float(plan[-1].split(":")[1].split()[0]))
    index = next((line.split(" using ")[1].split()[0] for line in plan if " using " in line), "?")
    removed = sum(int(line.split(":")[1]) for line in plan if "Rows Removed by Filter" in line)
    return f"query {median(times):6.1f} ms on {index}, {removed:,} rows passed over"


def _time_claims(engine: sa.Engine, shares: TenantShares | None, repeats: int = 20) -> str:
    """Median milliseconds of one claim of up to CLAIM due jobs, rolled back each time, and
    how many it claimed."""
    times, counts = [], []
    for _ in range(repeats):
        with engine.connect() as conn:
            fresh = None if shares is None else TenantShares(shares.cap, shares.in_flight.copy())
            start = time.perf_counter()
            made, _ = claims.claim_due(
                conn, "postgresql", now(), "bench", plan_slots, CLAIM, now(), QUIET, fresh
            )
            times.append((time.perf_counter() - start) * 1000)
            counts.append(len(made))
            conn.rollback()
    return f"{median(times):8.1f} ms ({median(counts):3.0f} claimed); {_explain(engine, shares)}"


def claim_at_size() -> None:
    with scratch_postgres("fair_claim") as url:
        engine = engine_for(url)
        insert_noop_jobs(engine, DUE, now() - timedelta(minutes=1))
        ids = [uuid.uuid4() for _ in range(TENANTS)]
        with engine.begin() as conn:
            conn.execute(tenants.insert(), [{"id": i, "name": f"t{k}"} for k, i in enumerate(ids)])
        _spread_over_tenants(engine, [])
        say(f"claim of up to {CLAIM} at {DUE:,} due jobs (median of 20):")
        say(f"  all global, no shares (before)           {_time_claims(engine, None)}")
        say(f"  all global, cap 4                        {_time_claims(engine, TenantShares(4))}")
        _spread_over_tenants(engine, ids)
        say(
            f"  {TENANTS} tenants x 1,000, cap 4               {_time_claims(engine, TenantShares(4))}"
        )
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE cron_job SET priority = 1000 WHERE tenant_id = :t"), {"t": ids[0]}
            )
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE cron_job")
        flooded = TenantShares(4)
        flooded.in_flight[ids[0]] = 4
        say(f"  same, one at priority 1000, at its cap   {_time_claims(engine, flooded)}")
        say(f"  same, one at priority 1000, none running {_time_claims(engine, TenantShares(4))}")
        engine.dispose()


def burst(n: int, repeats: int) -> None:
    log_dir = Path(mkdtemp(prefix="cronbase-fair-"))
    with scratch_postgres("fair_burst") as url:
        engine = engine_for(url)
        insert_noop_jobs(engine, n, now() + timedelta(days=365))
        ids = [uuid.uuid4() for _ in range(TENANTS)]
        with engine.begin() as conn:
            conn.execute(tenants.insert(), [{"id": i, "name": f"t{k}"} for k, i in enumerate(ids)])
        say(f"burst of {n:,} jobs, 2 workers of 4 threads (median of {repeats}):")
        for label, owners in (("all global", []), (f"{TENANTS} tenants", ids)):
            _spread_over_tenants(engine, owners)
            runs = [burst_once(url, engine, n, 2, log_dir) for _ in range(repeats)]
            per_s = median([r["per_s"] for r in runs])
            p99 = median([r["lag_p99"] for r in runs])
            say(f"  {label:<12} {per_s:8,.0f} runs/s   start lag p99 {p99:5.2f} s")
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-burst", action="store_true")
    parser.add_argument(
        "--lead", type=float, default=scenarios.LEAD_S, help="seconds the workers get to start"
    )
    args = parser.parse_args()
    scenarios.LEAD_S = args.lead  # a loaded machine starts a worker in more than 4 s
    claim_at_size()
    if not args.skip_burst:
        burst(args.jobs, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
