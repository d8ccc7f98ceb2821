"""The store's hot path alone, in one process: claim a batch of due runs, record them as
succeeded, again until N jobs ran; no threads, no worker loop. Prints the client CPU per run
(this process) and the PostgreSQL backend's CPU per run (read from /proc when the server is on
this machine), and with --profile the functions that took the most of the client's time.

    .venv/bin/python bench/store_path.py [--jobs 10000] [--batch 500] [--profile]

What it leaves out that a worker does: the threads, the control loop, the log lines, metrics.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import sqlalchemy as sa
from harness import cpu_seconds, engine_for, insert_noop_jobs, now, sa_url, scratch_postgres

from cronbase.fair_share import TenantShares
from cronbase.runner.outcomes import build_outcome
from cronbase.runner.planning import plan_slots
from cronbase.store import SqlStore


def cycle(store: SqlStore, jobs: int, batch: int) -> int:
    done = 0
    while done < jobs:
        at = now()
        shares = TenantShares.counting(batch, [])
        claims, _ = store.claim_due(at, "bench", plan_slots, batch, timedelta(seconds=60), shares)
        if not claims:
            break
        started = now()  # a run starts after its claim, as on a worker's thread
        outcomes = [build_outcome(c, started, now(), {}, None, 0.5) for c in claims]
        store.record_outcomes(outcomes)
        done += len(claims)
    return done


def _updates(engine: sa.Engine) -> tuple[int, int]:
    """cron_job's updates so far, and how many of them were HOT (the statistics of other
    backends reach the view within a second or so of their transactions)."""
    time.sleep(1.5)
    with engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'cron_job'"
        ).one()
    return row[0], row[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sql", action="append", default=[], help="run this first (an index)")
    args = parser.parse_args()
    with scratch_postgres("store_path") as url:
        engine = engine_for(url)
        with engine.begin() as conn:
            for statement in args.sql:
                conn.exec_driver_sql(statement)
        insert_noop_jobs(engine, args.jobs, now() - timedelta(seconds=1))
        store = SqlStore.from_url(sa_url(url))
        with store.engine.connect() as conn:
            backend = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        # CPU time, not wall time: waiting for the server is not the client's cost.
        profiler = cProfile.Profile(time.process_time) if args.profile else None
        for round_ in range(args.rounds):
            if round_:
                with engine.begin() as conn:
                    conn.exec_driver_sql("UPDATE cron_job SET next_run = now() - interval '1 s'")
            upd0, hot0 = _updates(engine)
            pg0, cpu0, wall0 = cpu_seconds(backend), time.process_time(), time.perf_counter()
            if profiler:
                profiler.enable()
            ran = cycle(store, args.jobs, args.batch)
            if profiler:
                profiler.disable()
            cpu, pg = time.process_time() - cpu0, cpu_seconds(backend) - pg0
            wall = time.perf_counter() - wall0
            upd, hot = _updates(engine)
            print(  # noqa: T201
                f"round {round_ + 1}: {ran} runs in {wall:.2f} s ({ran / wall:,.0f}/s); "
                f"client CPU {cpu * 1000 / ran:.3f} ms/run, backend CPU {pg * 1000 / ran:.3f} "
                f"ms/run; cron_job updates per run {(upd - upd0) / ran:.2f} "
                f"(HOT {(hot - hot0) / ran:.2f})"
            )
        store.close()
        engine.dispose()
    if profiler:
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main()
