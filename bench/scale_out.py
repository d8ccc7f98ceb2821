"""What limits a fleet of workers sharing one PostgreSQL (see bench/README.md, "Scaling out").

1. Claims alone: N due jobs, K claimer processes (1, 2, 4, 8), each looping the store's own
   `claim_due` (the statement a worker runs) with a batch of B until nothing is left. Prints
   runs claimed per second for each K and B, the claim's p50 / p99 time, and what a sample of
   pg_stat_activity every 20 ms found the claimers' backends doing: waiting on a heavyweight
   lock (row, tuple, transaction: SKIP LOCKED should make that rare, claimers pass over each
   other's rows instead of queueing on them), on an LWLock (buffer, WAL insertion), on I/O
   (WAL flush at commit), running (or waiting for a core), or waiting for their client.
2. Whole workers: the burst of scenario 1 (N no-op jobs due at one instant) with 1, 2, 4 and 8
   `cronbase worker` processes: runs/s, p99 start lag, worker and PostgreSQL CPU per run,
   commits and WAL bytes per run, `cron_job` and `cron_job_run` updates per run and how many
   were HOT, and `cron_job`'s dead rows after the burst. On a 2-core machine the workers and
   PostgreSQL share the cores, so past 2 this shows CPU contention more than lock contention.
3. What a run leaves behind: bytes of `cron_job_run` (heap, indexes, TOAST) per run row as the
   first burst wrote them into an empty table, and after VACUUM FULL; rows and GiB a day at
   1,000 and 10,000 runs/s.

    .venv/bin/python bench/scale_out.py [--jobs 20000] [--claimers 1,2,4,8] [--batches 10,100,500]
                                        [--workers 1,2,4,8] [--skip-workers]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from tempfile import mkdtemp
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import sqlalchemy as sa
import wal
from harness import (
    APPLICATION_NAME,
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

CLAIMER = "cronbase_claimer"  # the claimers' application_name, which the sampler looks for
# What a claimer's backend was doing in a sample (pg_stat_activity.wait_event_type, with
# "CPU" for active and not waiting, "Client" for waiting on its client between statements).
STATES = ("Lock", "LWLock", "IO", "CPU", "Client")


def say(line: str = "") -> None:
    print(line, flush=True)  # noqa: T201 - a bench script prints its figures


def _claimer(url: str, batch: int, ready: Any, start: Any, out: Any) -> None:
    """One process claiming until nothing is due; sends back (runs claimed, [claim seconds])
    of the claims that took something."""
    store = SqlStore.from_url(sa_url(url), connect_args={"application_name": CLAIMER})
    worker_id = f"claimer-{multiprocessing.current_process().pid}"
    # Nothing is due a day ago: these claims take nothing, but connect, and run each statement
    # past psycopg's prepare threshold (5), so the clock measures claims, not set-up.
    for _ in range(6):
        store.claim_due(now() - timedelta(days=1), worker_id, plan_slots, batch)
    ready.release()
    start.wait()
    claimed, times = 0, []
    while True:
        began = time.perf_counter()
        claims, taken = store.claim_due(now(), worker_id, plan_slots, batch)
        elapsed = time.perf_counter() - began
        if not taken:  # nothing left that another claimer does not hold
            break
        claimed += len(claims)
        times.append(elapsed)
    out.put((claimed, times))
    store.close()


def _sample(engine: sa.Engine, stop: threading.Event, seen: Counter[str]) -> None:
    """Every 20 ms, what each claimer's backend is doing (see STATES)."""
    query = (
        "SELECT CASE WHEN state = 'active' THEN coalesce(wait_event_type, 'CPU') ELSE 'Client'"
        " END FROM pg_stat_activity WHERE datname = current_database()"
        " AND application_name = %(name)s"
    )
    with engine.connect() as conn:
        while not stop.is_set():
            seen.update(conn.exec_driver_sql(query, {"name": CLAIMER}).scalars())
            conn.rollback()  # pg_stat_activity is read once per transaction
            time.sleep(0.02)


def _claim_round(url: str, engine: sa.Engine, jobs: int, k: int, batch: int) -> str:
    """Every job due, k claimers claiming batches of `batch` until none is left: one row."""
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE cron_job SET next_run = now() - interval '1 minute'")
    reset_runs(engine)  # no runs; VACUUM clears the dead versions of the update too
    context = multiprocessing.get_context("spawn")
    ready, start, out = context.Semaphore(0), context.Event(), context.Queue()
    procs = [
        context.Process(target=_claimer, args=(url, batch, ready, start, out)) for _ in range(k)
    ]
    for proc in procs:
        proc.start()
    for _ in procs:
        if not ready.acquire(timeout=120):
            raise TimeoutError("a claimer did not come up within 120 s")
    stop, seen = threading.Event(), Counter[str]()
    sampler = threading.Thread(target=_sample, args=(engine, stop, seen))
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
    if claimed != jobs:
        raise RuntimeError(f"claimed {claimed} runs of {jobs} due jobs")
    times = [t * 1000 for _, ts in results for t in ts]
    total = max(sum(seen.values()), 1)
    shares = " | ".join(f"{seen[state] / total:.0%}" for state in STATES)
    return (
        f"| {k} | {batch} | {claimed / wall:,.0f} | {len(times) / wall:,.0f} | "
        f"{median(times):.1f} / {percentile(times, 99):.1f} | {shares} |"
    )


def claims_alone(url: str, jobs: int, claimers: list[int], batches: list[int]) -> None:
    say(f"## 1. Claims alone: {jobs:,} due jobs, K processes claiming batches of B")
    say("Claimer backends sampled every 20 ms: share of samples " + ", ".join(STATES) + ".")
    say()
    say("| K | B | runs claimed/s | claims/s | claim p50 / p99 (ms) | " + " | ".join(STATES) + " |")
    say("|---:|---:|---:|---:|---:|" + "---:|" * len(STATES))
    engine = engine_for(url)
    for batch in batches:
        for k in claimers:
            say(_claim_round(url, engine, jobs, k, batch))
    engine.dispose()
    say()


def _settle(engine: sa.Engine) -> None:
    """Wait until no other client backend of the database is left: a backend flushes its
    table statistics when it exits (else only every second or so)."""
    deadline = time.monotonic() + 30
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            others = conn.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
            ).scalar_one()
            conn.rollback()
            if not others:
                return
            time.sleep(0.05)
    raise TimeoutError("other connections to the scratch database did not go away")


COUNTERS = """
SELECT j.n_tup_upd, j.n_tup_hot_upd, r.n_tup_upd, r.n_tup_hot_upd, d.xact_commit,
       pg_current_wal_lsn()
FROM pg_stat_user_tables j, pg_stat_user_tables r, pg_stat_database d
WHERE j.relname = 'cron_job' AND r.relname = 'cron_job_run' AND d.datname = current_database()
"""
NAMES = ("job_upd", "job_hot", "run_upd", "run_hot", "commits", "lsn")


class Counters:
    """The database's counters, read once the jobs are due (before the workers start) and
    again when they have gone. The harness's engine has no pool (its connections end, and
    flush their statistics, after each use), so only the burst moves them. WAL is read with
    pg_waldump (wal.py) where the server's pg_wal is readable here; else it is NaN."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.before: dict[str, Any] = {}
        self.wal_dir = wal.where(engine)

    def _read(self) -> dict[str, Any]:
        _settle(self.engine)
        with self.engine.connect() as conn:
            return dict(zip(NAMES, conn.exec_driver_sql(COUNTERS).one(), strict=True))

    def start(self) -> None:
        self.before = self._read()

    def since(self) -> dict[str, float]:
        after = self._read()
        delta = {name: float(after[name] - self.before[name]) for name in NAMES[:-1]}
        found = self.wal_dir and wal.written(self.wal_dir, self.before["lsn"], after["lsn"])
        delta["wal"] = found.bytes if found else float("nan")
        delta["wal_images"] = found.page_images if found else float("nan")
        return delta


def _relation(engine: sa.Engine, table: str) -> dict[str, float]:
    """Heap, indexes and TOAST of `table` in bytes, and its live and dead rows (pgstattuple)."""
    with engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT pg_table_size(%(t)s::regclass), pg_indexes_size(%(t)s::regclass), s.tuple_count,"
            " s.tuple_len, s.dead_tuple_count, s.dead_tuple_len, s.free_space"
            " FROM pgstattuple(%(t)s::regclass) s",
            {"t": table},
        ).one()
    names = ("heap", "indexes", "rows", "live_bytes", "dead_rows", "dead_bytes", "free")
    return dict(zip(names, map(float, row), strict=True))


def _burst_row(k: int, result: dict[str, float], moved: dict[str, float], jobs: int) -> str:
    per = lambda name: moved[name] / jobs
    return (
        f"| {k} | {result['per_s']:,.0f} | {result['lag_p99']:.2f} | "
        f"{result['burst_cpu_ms_per_run']:.3f} | {result['pg_cpu_ms_per_run']:.3f} | "
        f"{per('commits'):.3f} | {per('wal'):,.0f} ({per('wal_images') / per('wal'):.0%}) | "
        f"{per('job_upd'):.2f} ({per('job_hot'):.2f}) | {per('run_upd'):.2f} ({per('run_hot'):.2f}) |"
    )


def whole_workers(url: str, jobs: int, workers: list[int]) -> dict[str, float]:
    """The bursts; returns cron_job_run's relation sizes after the first (an empty table)."""
    say(f"## 2. Whole workers: a burst of {jobs:,} no-op jobs")
    say(
        "| workers | runs/s | start lag p99 (s) | worker CPU ms/run | PostgreSQL CPU ms/run "
        "| commits/run | WAL bytes/run (page images) | cron_job updates/run (HOT) "
        "| cron_job_run updates/run (HOT) |"
    )
    say("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    engine = SqlStore.from_url(
        sa_url(url), connect_args={"application_name": APPLICATION_NAME}, poolclass=sa.NullPool
    ).engine
    with engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE cron_job_run")  # the first burst writes an empty table
    log_dir = Path(mkdtemp(prefix="cronbase-scale-out-"))
    counters, first, bloat = Counters(engine), {}, []
    for k in workers:
        result = burst_once(url, engine, jobs, k, log_dir, before=counters.start)
        say(_burst_row(k, result, counters.since(), jobs))
        first = first or _relation(engine, "cron_job_run")
        bloat.append((k, _relation(engine, "cron_job")))
    say()
    for k, job in bloat:
        say(
            f"- cron_job after the burst with {k} worker(s): {job['rows']:,.0f} live rows,"
            f" {job['dead_rows']:,.0f} dead; heap {job['heap'] / 2**20:.1f} MiB"
            f" ({job['dead_bytes'] / job['heap']:.0%} dead rows, {job['free'] / job['heap']:.0%}"
            f" free), indexes {job['indexes'] / 2**20:.1f} MiB"
        )
    say(f"worker logs: {log_dir}")
    say()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM FULL cron_job_run")
    compact = _relation(engine, "cron_job_run")
    engine.dispose()
    return {"first": first, "compact": compact}


def history(sizes: dict[str, dict[str, float]]) -> None:
    say("## 3. What a run leaves behind (cron_job_run, no-op runs: no log, no traceback)")
    say("| | rows | heap bytes/row (live, dead) | index bytes/row | total bytes/row |")
    say("|---|---:|---:|---:|---:|")
    totals = {}
    for label, key in (("as the first burst wrote it", "first"), ("after VACUUM FULL", "compact")):
        size = sizes[key]
        rows = max(size["rows"], 1)
        totals[key] = (size["heap"] + size["indexes"]) / rows
        say(
            f"| {label} | {size['rows']:,.0f} | {size['heap'] / rows:,.0f}"
            f" ({size['live_bytes'] / rows:,.0f}, {size['dead_bytes'] / rows:,.0f}) |"
            f" {size['indexes'] / rows:,.0f} | {totals[key]:,.0f} |"
        )
    say()
    for rate in (1_000, 10_000):
        day = rate * 86_400
        low, high = (day * totals[key] / 2**30 for key in ("compact", "first"))
        say(
            f"- at {rate:,} runs/s: {day / 1e6:,.1f} M rows a day, {low:,.0f} to {high:,.0f} GiB;"
            f" {2**30 / totals['first']:,.0f} to {2**30 / totals['compact']:,.0f} rows per GiB"
        )
    say()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--claimers", default="1,2,4,8")
    parser.add_argument("--batches", default="10,100,500")
    parser.add_argument("--workers", default="1,2,4,8")
    parser.add_argument("--skip-workers", action="store_true")
    args = parser.parse_args()
    numbers = lambda text: [int(x) for x in text.split(",") if x]
    with engine_for(BASE_URL).connect() as conn:
        version = conn.exec_driver_sql("SHOW server_version").scalar_one()
        autovacuum = conn.exec_driver_sql("SHOW autovacuum").scalar_one()
    with open("/proc/loadavg") as f:
        say(f"PostgreSQL {version} (autovacuum {autovacuum}); load average before: {f.read()[:15]}")
    with scratch_postgres("scale_out") as url:
        engine = engine_for(url)
        insert_noop_jobs(engine, args.jobs, now())
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pgstattuple")
        engine.dispose()
        claims_alone(url, args.jobs, numbers(args.claimers), numbers(args.batches))
        if not args.skip_workers:
            history(whole_workers(url, args.jobs, numbers(args.workers)))
    with open("/proc/loadavg") as f:
        say(f"load average after: {f.read()[:15]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
