"""What limits a fleet of workers sharing one PostgreSQL (see bench/README.md, "Scaling out").

1. Claims alone: N due jobs, K claimer processes (1, 2, 4, 8), each looping the store's own
   `claim_due` (the statement a worker runs) with a batch of B until nothing is left. Prints
   runs claimed per second for each K and B, the claim's p50 / p99 time, and how often a
   sample of pg_stat_activity found a claimer waiting on a lock (SKIP LOCKED should make that
   rare: claimers pass over each other's rows instead of queueing on them).
2. Whole workers: the burst of scenario 1 (N no-op jobs due at one instant) with 1, 2, 4 and 8
   `cronbase worker` processes: runs/s and p99 start lag. On a 2-core machine the workers and
   PostgreSQL share the cores, so past 2 this shows CPU contention more than lock contention.
3. What a run leaves behind: bytes of `cron_job_run` (heap, indexes, TOAST) per run row, and
   `cron_job`'s updates per run, how many were HOT, and its dead rows and size after the burst.

    .venv/bin/python bench/scale_out.py [--jobs 20000] [--claimers 1,2,4,8] [--batches 100,500]
                                        [--workers 1,2,4,8] [--skip-workers]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import threading
import time
from pathlib import Path
from tempfile import mkdtemp
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import sqlalchemy as sa
from harness import (
    BASE_URL,
    engine_for,
    insert_noop_jobs,
    median,
    now,
    percentile,
    sa_url,
    scratch_postgres,
)
from scenarios import burst_once, reset_runs

from cronbase.runner.planning import plan_slots
from cronbase.store.sql import SqlStore


def say(line: str = "") -> None:
    print(line, flush=True)  # noqa: T201 - a bench script prints its figures


def _claimer(url: str, batch: int, start: Any, out: Any) -> None:
    """One process claiming until nothing is due; sends back (claimed, [claim seconds])."""
    store = SqlStore.from_url(sa_url(url))
    worker_id = f"claimer-{multiprocessing.current_process().pid}"
    store.claim_due(now(), worker_id, plan_slots, 1)  # connect before the clock starts
    start.wait()
    claimed, times = 0, []
    while True:
        began = time.perf_counter()
        claims, _ = store.claim_due(now(), worker_id, plan_slots, batch)
        times.append(time.perf_counter() - began)
        if not claims:
            break
        claimed += len(claims)
    out.put((claimed + 1, times))
    store.close()


def _lock_waits(engine: sa.Engine, stop: threading.Event, samples: list[int]) -> None:
    """Every 20 ms, how many client backends wait on a heavyweight lock."""
    with engine.connect() as conn:
        while not stop.is_set():
            samples.append(
                conn.exec_driver_sql(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                ).scalar_one()
            )
            conn.rollback()
            time.sleep(0.02)


def claims_alone(url: str, jobs: int, claimers: list[int], batches: list[int]) -> None:
    say(f"## 1. Claims alone: {jobs:,} due jobs, K processes claiming batches of B")
    say("| K | B | runs claimed/s | claim p50 / p99 (ms) | samples with a lock wait |")
    say("|---:|---:|---:|---:|---:|")
    engine = engine_for(url)
    context = multiprocessing.get_context("spawn")
    for batch in batches:
        for k in claimers:
            reset_runs(engine)
            with engine.begin() as conn:
                conn.exec_driver_sql("UPDATE cron_job SET next_run = now() - interval '1 minute'")
            start, out = context.Event(), context.Queue()
            procs = [
                context.Process(target=_claimer, args=(url, batch, start, out)) for _ in range(k)
            ]
            for proc in procs:
                proc.start()
            time.sleep(2.0)  # each has connected and made its first claim
            stop, samples = threading.Event(), []
            sampler = threading.Thread(target=_lock_waits, args=(engine, stop, samples))
            sampler.start()
            began = time.perf_counter()
            start.set()
            results = [out.get(timeout=600) for _ in procs]
            wall = time.perf_counter() - began
            stop.set()
            sampler.join()
            for proc in procs:
                proc.join()
            claimed = sum(count for count, _ in results)
            times = [t * 1000 for _, ts in results for t in ts]
            waiting = sum(1 for s in samples if s) / max(len(samples), 1)
            if claimed != jobs:
                raise RuntimeError(f"claimed {claimed} runs of {jobs} due jobs")
            say(
                f"| {k} | {batch} | {claimed / wall:,.0f} | {median(times):.1f} / "
                f"{percentile(times, 99):.1f} | {waiting:.0%} |"
            )
    say()


def _table_stats(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT pg_stat_force_next_flush()")
        row = conn.exec_driver_sql(
            "SELECT n_tup_upd, n_tup_hot_upd, n_dead_tup,"
            " pg_total_relation_size('cron_job') FROM pg_stat_user_tables"
            " WHERE relname = 'cron_job'"
        ).one()
    return dict(zip(("upd", "hot", "dead", "bytes"), row, strict=True))


def _run_bytes(engine: sa.Engine) -> tuple[int, float]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT count(*) FROM cron_job_run").scalar_one()
        size = conn.exec_driver_sql("SELECT pg_total_relation_size('cron_job_run')").scalar_one()
    return rows, size / max(rows, 1)


def whole_workers(url: str, jobs: int, workers: list[int]) -> None:
    say(f"## 2. Whole workers: a burst of {jobs:,} no-op jobs")
    say("| workers | runs/s | start lag p99 (s) | cron_job updates per run (HOT) |")
    say("|---:|---:|---:|---:|")
    engine = engine_for(url)
    log_dir = Path(mkdtemp(prefix="cronbase-scale-out-"))
    last: dict[str, Any] = {}
    for k in workers:
        before = _table_stats(engine)
        result = burst_once(url, engine, jobs, k, log_dir)
        after = _table_stats(engine)
        updates = (after["upd"] - before["upd"]) / jobs
        hot = (after["hot"] - before["hot"]) / jobs
        say(
            f"| {k} | {result['per_s']:,.0f} | {result['lag_p99']:.2f} | {updates:.1f} ({hot:.1f}) |"
        )
        last = after
    rows, per_row = _run_bytes(engine)
    say()
    say("## 3. What a run leaves behind")
    say(f"- cron_job_run: {rows:,} rows, {per_row:,.0f} bytes per run (heap + indexes)")
    for rate in (1_000, 10_000):
        day = rate * 86_400
        say(
            f"- at {rate:,} runs/s: {day / 1e6:,.0f} M rows and "
            f"{day * per_row / 2**30:,.0f} GiB of history per day"
        )
    say(
        f"- cron_job after the bursts: {last['dead']:,} dead rows, "
        f"{last['bytes'] / 2**20:,.1f} MiB for {jobs:,} jobs (autovacuum not waited for)"
    )
    say(f"worker logs: {log_dir}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--claimers", default="1,2,4,8")
    parser.add_argument("--batches", default="100,500")
    parser.add_argument("--workers", default="1,2,4,8")
    parser.add_argument("--skip-workers", action="store_true")
    args = parser.parse_args()
    numbers = lambda text: [int(x) for x in text.split(",") if x]
    with engine_for(BASE_URL).connect() as conn:
        version = conn.exec_driver_sql("SHOW server_version").scalar_one()
    with open("/proc/loadavg") as f:
        say(f"PostgreSQL {version}; load average before: {f.read().split()[:3]}")
    with scratch_postgres("scale_out") as url:
        insert_noop_jobs(engine_for(url), args.jobs, now())
        claims_alone(url, args.jobs, numbers(args.claimers), numbers(args.batches))
        if not args.skip_workers:
            whole_workers(url, args.jobs, numbers(args.workers))
    with open("/proc/loadavg") as f:
        say(f"load average after: {f.read().split()[:3]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
