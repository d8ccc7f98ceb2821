"""Run-history retention at scale, on the local PostgreSQL: prune half of a large cron_job_run
while bursts of jobs run, beside the same bursts without pruning; a job's history page at
that size, with its plan; and what dropping a partition would cost instead.

Usage: .venv/bin/python bench/retention.py [--runs 10000000] [--jobs 10000] [--repeats 3]

It works in a scratch database `cronbase_bench_retention_...` (created, migrated, dropped) and
prints a Markdown report (see bench/README.md, "Run-history retention").
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

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
    sa_url,
    scratch_postgres,
    set_next_run,
)
from sqlalchemy import event
from sqlalchemy.schema import CreateIndex

from cronbase.clock import SystemClock
from cronbase.listing import RunQuery
from cronbase.retention import Cadence
from cronbase.runner.pruning import Pruner
from cronbase.store import SqlStore
from cronbase.store.retention import prune_batch
from cronbase.store.tables import cron_job_run

SPAN_DAYS = 200  # each job's runs are spread over the last 200 days ...
RETENTION_DAYS = 100  # ... so half of them are older than the retention
LEAD_S = 2.0  # a burst falls due this long after its workers have started
# Dropped for the bulk load and built again afterwards (ix_cron_job_run_age is the one the
# retention migration adds: its build time is what an upgrade of a table this size costs).
REBUILT = ("ix_cron_job_run_age", "ix_cron_job_run_slots", "uq_cron_job_run_slot")

report: list[str] = []


def say(line: str = "") -> None:
    print(line, flush=True)  # noqa: T201
    report.append(line)


def note(line: str) -> None:
    print(f"   {line}", file=sys.stderr, flush=True)  # noqa: T201


def load(engine: sa.Engine, jobs: int, runs: int) -> None:
    """`jobs` no-op jobs, and `runs` succeeded runs spread evenly over each job's last
    SPAN_DAYS, loaded set-based a million rows per statement."""
    insert_noop_jobs(engine, jobs, now() + timedelta(days=365))
    per_job = runs // jobs
    step_s = SPAN_DAYS * 86400 / per_job
    with engine.begin() as conn:
        for name in REBUILT:
            conn.exec_driver_sql(f"DROP INDEX {name}")
    chunk = max(1_000_000 // per_job, 1)
    start, t0 = now(), time.perf_counter()
    for first in range(1, jobs + 1, chunk):
        with engine.begin() as conn:
            # The foreign key's per-row check is skipped while loading (every job_id is a job).
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            conn.execute(
                sa.text(
                    "INSERT INTO cron_job_run (job_id, scheduled_for, started_at, finished_at,"
                    " status, worker_id, result)"
                    " SELECT j.id, s.slot, s.slot + interval '10 ms', s.slot + interval '60 ms',"
                    " 'succeeded', 'bench-history', '{}'::jsonb"
                    " FROM cron_job j CROSS JOIN LATERAL ("
                    "   SELECT CAST(:start AS timestamptz)"
                    "     - (g * CAST(:step AS double precision)) * interval '1 second' AS slot"
                    "   FROM generate_series(1, :per_job) g) s"
                    " WHERE CAST(substr(j.name, 6) AS int) BETWEEN :lo AND :hi"
                ),
                {
                    "start": start,
                    "step": step_s,
                    "per_job": per_job,
                    "lo": first,
                    "hi": first + chunk - 1,
                },
            )
        note(f"loaded jobs {first}..{first + chunk - 1} ({time.perf_counter() - t0:.0f} s)")
    say(f"- loaded {per_job * jobs:,} runs of {jobs:,} jobs in {time.perf_counter() - t0:.0f} s")
    for index in cron_job_run.indexes:
        if index.name in REBUILT:
            t0 = time.perf_counter()
            with engine.begin() as conn:
                conn.execute(CreateIndex(index))
            say(f"- CREATE INDEX {index.name}: {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE cron_job, cron_job_run")
    say(f"- VACUUM ANALYZE after the load: {time.perf_counter() - t0:.0f} s")


def count_runs(engine: sa.Engine, before: datetime | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(cron_job_run)
    if before is not None:
        query = query.where(cron_job_run.c.scheduled_for < before)
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def history_page(engine: sa.Engine, label: str) -> None:
    """The store's own history query (SqlStore.list_runs) for one job: its round trip and
    its plan, first page and last page."""
    store = SqlStore(engine)
    with engine.connect() as conn:
        # a job in the middle of the table (the jobs are noop-1 .. noop-N)
        count = conn.execute(sa.text("SELECT count(*) FROM cron_job")).scalar_one()
        job_id = conn.execute(
            sa.text("SELECT id FROM cron_job WHERE name = :name"), {"name": f"noop-{count // 2}"}
        ).scalar_one()
        total = conn.execute(
            sa.select(sa.func.count()).where(cron_job_run.c.job_id == job_id)
        ).scalar_one()
    captured: list[tuple[str, Any]] = []

    def capture(_c: Any, _cur: Any, statement: str, params: Any, *_rest: Any) -> None:
        captured.append((statement, params))

    for offset in (0, max(total - 20, 0)):
        event.listen(engine, "before_cursor_execute", capture)
        store.list_runs(job_id, RunQuery(limit=20, offset=offset))
        event.remove(engine, "before_cursor_execute", capture)
        statement, params = captured[-1]
        samples = []
        for _ in range(50):
            t0 = time.perf_counter()
            store.list_runs(job_id, RunQuery(limit=20, offset=offset))
            samples.append((time.perf_counter() - t0) * 1000)
        with engine.connect() as conn:
            plan = [
                line
                for (line,) in conn.exec_driver_sql(
                    f"EXPLAIN (ANALYZE, BUFFERS) {statement}", params
                )
            ]
        execution = next(line for line in plan if line.startswith("Execution Time"))
        say(
            f"- history page ({label}, a job with {total:,} runs, 20 rows at offset {offset}): "
            f"{median(samples):.2f} ms round trip through SqlStore.list_runs (median of 50), "
            f"{execution.split(': ')[1]} in the database"
        )
        say("")
        say("  ```")
        say("  " + statement.replace("\n", " "))
        for line in plan:
            say(f"  {line}")
        say("  ```")
        say("")


def batch_plan(engine: sa.Engine) -> None:
    """The plans of one pruning batch's two statements (the DELETE rolled back)."""
    captured: list[tuple[str, Any]] = []

    def capture(_c: Any, _cur: Any, statement: str, params: Any, *_rest: Any) -> None:
        captured.append((statement, params))

    cutoff = now() - timedelta(days=RETENTION_DAYS)
    event.listen(engine, "before_cursor_execute", capture)
    with engine.connect() as conn, conn.begin():
        prune_batch(
            conn, "postgresql", before=cutoff, after=None, limit=1000, holder="bench", now=now()
        )
        conn.rollback()
    event.remove(engine, "before_cursor_execute", capture)
    for statement, params in captured[-2:]:
        with engine.connect() as conn, conn.begin():
            conn.exec_driver_sql("SET LOCAL jit = off")  # as prune_batch does
            plan = [
                line
                for (line,) in conn.exec_driver_sql(
                    f"EXPLAIN (ANALYZE, BUFFERS) {statement}", params
                )
            ]
            conn.rollback()
        say("")
        say("  ```")
        say("  " + " ".join(statement.split()))
        for line in plan:
            say(f"  {line}")
        say("  ```")
    say("")


def burst(url: str, engine: sa.Engine, jobs: int, log_dir: Path, retention: str) -> dict:
    """All `jobs` due at one instant, run by 2 `cronbase worker` processes with
    CRONBASE_RUN_RETENTION_DAYS=`retention`; start lag of each run."""
    # The workers look for due jobs every second at least, and the jobs fall due once both
    # are up (on a loaded machine a worker may take many seconds to start).
    env = cronbase_env(
        url, CRONBASE_RUN_RETENTION_DAYS=retention, CRONBASE_WORKER_MAX_SLEEP_SECONDS="1"
    )
    procs = [Proc([CRONBASE, "worker"], env, log_dir, f"retention-worker-{i}") for i in range(2)]
    finished = sa.text(
        "SELECT count(*) FROM cron_job_run WHERE scheduled_for = :due AND finished_at IS NOT NULL"
    )
    try:
        for proc in procs:
            proc.wait_for_log("started", timeout=120)
        due = now() + timedelta(seconds=LEAD_S)
        set_next_run(engine, due)
        deadline = time.monotonic() + LEAD_S + 120
        while True:
            with engine.connect() as conn:
                done = conn.execute(finished, {"due": due}).scalar_one()
            if done >= jobs:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {done} of {jobs} runs finished")
            time.sleep(0.2)
    finally:
        for proc in procs:
            proc.stop()
    query = sa.text("SELECT started_at, finished_at FROM cron_job_run WHERE scheduled_for = :due")
    with engine.connect() as conn:
        rows = conn.execute(query, {"due": due}).all()
    lags = [(started - due).total_seconds() for started, _ in rows]
    return {
        "p50": percentile(lags, 50),
        "p99": percentile(lags, 99),
        "wall": (max(f for _, f in rows) - due).total_seconds(),
    }


class BackgroundPruner:
    """A pruner that never stops for jobs: an idle worker of the fleet pruning while others
    run the burst (cronbase's own Pruner and store, timed per batch)."""

    def __init__(self, url: str) -> None:
        self.store = SqlStore.from_url(sa_url(url))
        self.batches: list[float] = []
        self.deleted = 0
        self.stop = threading.Event()
        prune = self.store.prune_runs

        def timed(**kwargs: Any) -> Any:
            t0 = time.perf_counter()
            batch = prune(**kwargs)
            self.batches.append((time.perf_counter() - t0) * 1000)
            self.deleted += batch.deleted if batch else 0
            return batch

        self.store.prune_runs = timed  # type: ignore[method-assign]
        self.pruner = Pruner(
            self.store,
            SystemClock(),
            "bench-pruner",
            retention_days=RETENTION_DAYS,
            cadence=Cadence(interval=3600),
        )
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.started = self.ended = 0.0

    def run(self) -> None:
        self.started = time.perf_counter()
        while not self.stop.is_set():
            self.pruner.turn(busy=False, until_due=float("inf"))
            if not self.pruner.in_pass:
                break  # the pass reached the cutoff
        self.ended = time.perf_counter()


def lag_line(label: str, runs: list[dict], jobs: int) -> None:
    p50 = median([r["p50"] for r in runs])
    p99 = median([r["p99"] for r in runs])
    wall = median([r["wall"] for r in runs])
    say(f"| {label} | {p50:.2f} | {p99:.2f} | {wall:.2f} | {jobs / wall:,.0f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10_000_000)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="cronbase-bench-retention-"))
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    started = time.time()
    say(f"# Run-history retention: {args.runs:,} runs, bursts of {args.jobs:,} jobs")
    say("")
    say(
        f"- {time.strftime('%Y-%m-%d %H:%M %Z')}, {os.cpu_count()} cores, load before {load_before}"
    )
    with scratch_postgres("retention") as url:
        engine = engine_for(url)
        load(engine, args.jobs, args.runs)
        cutoff = now() - timedelta(days=RETENTION_DAYS)
        old = count_runs(engine, cutoff)
        say(f"- {old:,} runs older than {RETENTION_DAYS} days (to prune)")
        say("")
        history_page(engine, f"{count_runs(engine):,} runs in the table")
        say("- one pruning batch (the first, 1,000 rows), its two statements:")
        batch_plan(engine)

        say("| Burst of jobs, 2 workers | start lag p50 (s) | p99 (s) | wall (s) | executions/s |")
        say("|---|---:|---:|---:|---|")
        runs = [burst(url, engine, args.jobs, log_dir, "0") for _ in range(args.repeats)]
        lag_line("no pruning (CRONBASE_RUN_RETENTION_DAYS=0)", runs, args.jobs)
        before = count_runs(engine, cutoff)
        runs = [
            burst(url, engine, args.jobs, log_dir, str(RETENTION_DAYS)) for _ in range(args.repeats)
        ]
        by_workers = before - count_runs(engine, cutoff)
        lag_line(f"the 2 workers prune ({RETENTION_DAYS} days)", runs, args.jobs)

        background = BackgroundPruner(url)
        background.thread.start()
        time.sleep(5)  # in full swing before the first burst
        runs = []
        for _ in range(args.repeats):
            runs.append(burst(url, engine, args.jobs, log_dir, "0"))
            time.sleep(2)
        lag_line("another process prunes without pause", runs, args.jobs)
        background.thread.join()
        took = background.ended - background.started
        say("")
        say(
            f"- the burst workers' own pruning deleted {by_workers:,} rows during their "
            f"{args.repeats} bursts"
        )
        say(
            f"- the background pruner deleted {background.deleted:,} rows in {took:.0f} s "
            f"({background.deleted / took:,.0f} rows/s) in {len(background.batches):,} batches "
            f"of up to 1,000 rows; batch time p50 {percentile(background.batches, 50):.1f} ms, "
            f"p99 {percentile(background.batches, 99):.1f} ms, max {max(background.batches):.0f} ms"
        )
        left = count_runs(engine, cutoff)
        say(f"- runs older than the cutoff left: {left:,} (pending or running: none here)")
        t0 = time.perf_counter()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE cron_job_run")
        say(f"- VACUUM of the pruned table: {time.perf_counter() - t0:.0f} s")
        say("")
        history_page(engine, f"{count_runs(engine):,} runs left")
        partition_proxy(engine, args.runs // 2)
        background.store.close()
        engine.dispose()
    say(
        f"- whole run {(time.time() - started) / 60:.1f} min; load after "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
    )
    print(f"(worker logs in {log_dir})", file=sys.stderr)  # noqa: T201
    return 0


def partition_proxy(engine: sa.Engine, rows: int) -> None:
    """What dropping a time partition of `rows` rows costs: a table of that many run rows is
    made and dropped (DROP TABLE is what DROP of a detached partition does)."""
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE bench_partition AS SELECT * FROM cron_job_run LIMIT %(n)s", {"n": rows}
        )
        made = conn.exec_driver_sql("SELECT count(*) FROM bench_partition").scalar_one()
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE bench_partition")
    say(
        f"- DROP TABLE of a table of {made:,} run rows (a partition's drop): "
        f"{(time.perf_counter() - t0) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    sys.exit(main())
