"""The cronbase scenarios. Each returns rows: (scenario, setting, metric, value)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from harness import (
    CRONBASE,
    CpuWindow,
    Proc,
    cpu_seconds,
    cronbase_env,
    engine_for,
    finished_runs,
    insert_noop_jobs,
    median,
    memory_kib,
    now,
    percentile,
    run_timings,
    scratch_postgres,
    scratch_sqlite,
    set_next_run,
    start_api,
    superadmin_token,
)

from cronbase.builtin.tables import employees, users
from cronbase.store.tables import cron_job, cron_job_run, tenants

Row = tuple[str, str, str, Any]
LEAD_S = 4.0  # jobs fall due this long after the workers are launched (they start in ~1 s)


def reset_runs(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(cron_job_run.delete())
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE cron_job, cron_job_run")


class StartedLate(Exception):
    """A worker was not up by the due instant (a loaded machine): the burst would measure its
    start-up, so it is run again with a longer lead."""


def burst_once(
    url: str,
    engine: sa.Engine,
    n: int,
    workers: int,
    log_dir: Path,
    spread_s: float = 0,
    *,
    before: Callable[[], object] | None = None,
) -> dict[str, float]:
    """Make all n jobs due LEAD_S from now (or spread over spread_s), run `workers` workers
    until every run is recorded, and measure. If a worker comes up after the due instant, the
    burst is run again with twice the lead (up to 8 times LEAD_S). `before` is called once the
    jobs are due and before the workers start (to read counters that only the burst moves)."""
    lead = LEAD_S
    while True:
        try:
            return _burst(url, engine, n, workers, log_dir, spread_s, lead, before)
        except StartedLate as late:
            if lead >= LEAD_S * 8:
                raise
            lead *= 2
            print(f"   {late}; again with a lead of {lead:.0f} s", file=sys.stderr, flush=True)  # noqa: T201


def _burst(
    url: str,
    engine: sa.Engine,
    n: int,
    workers: int,
    log_dir: Path,
    spread_s: float,
    lead: float,
    before: Callable[[], object] | None,
) -> dict[str, float]:
    reset_runs(engine)
    due = now() + timedelta(seconds=lead)
    set_next_run(engine, due, spread_s)
    if before is not None:
        before()
    env = cronbase_env(url)
    procs = [Proc([CRONBASE, "worker"], env, log_dir, f"worker-{i}") for i in range(workers)]
    try:
        for proc in procs:
            proc.wait_for_log("started", timeout=max(lead * 3, 60))
        ready_late = (now() - due).total_seconds()
        if ready_late > 0:
            raise StartedLate(f"a worker started {ready_late:.1f} s after the due instant")
        # CPU is counted from the due instant (start-up is not the runs' cost) to the first
        # poll that sees every run finished.
        time.sleep(max(-ready_late, 0))
        window = CpuWindow(engine, [proc.pid for proc in procs])
        window.start()
        deadline = time.monotonic() + lead + spread_s + max(60.0, n / 50)
        _wait_until_recorded(engine, n, procs, deadline)
        worker_cpu, backend_cpu = window.stop()
        peak_rss = max(memory_kib(p.pid)["VmHWM"] for p in procs)
        cpu = sum(cpu_seconds(p.pid) for p in procs)
    finally:
        for proc in procs:
            proc.stop()
    rows = run_timings(engine)
    if len(rows) != n or len({r[3] for r in rows}) != n:
        raise RuntimeError(f"expected {n} runs of {n} jobs, got {len(rows)} runs")
    lags = [(started - scheduled).total_seconds() for scheduled, started, _, _ in rows]
    wall = (max(r[2] for r in rows) - due).total_seconds()
    return {
        "wall_s": wall,
        "per_s": n / wall,
        "lag_p50": percentile(lags, 50),
        "lag_p99": percentile(lags, 99),
        "lag_max": max(lags),
        "rss_mib": peak_rss / 1024,
        "cpu_ms_per_job": cpu * 1000 / n,
        "burst_cpu_ms_per_run": worker_cpu * 1000 / n,
        "pg_cpu_ms_per_run": backend_cpu * 1000 / n,
        "ready_late_s": ready_late,
    }


def _wait_until_recorded(engine: sa.Engine, n: int, procs: list[Proc], deadline: float) -> None:
    """Return at the first look that finds all n runs finished. A look counts the finished
    runs, which reads the whole run table (5-6 ms of PostgreSQL CPU at 100,000 runs): looking
    every 0.1 s took CPU from the burst it measured on 2 cores, the more the larger the burst.
    So the next look comes when half the time the rate so far predicts for the rest has gone
    by (0.1 s to 2 s): a dozen looks in a 40 s burst, still within 0.1 s of its end."""
    started = time.monotonic()
    while (done := finished_runs(engine)) < n:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {done} of {n} runs finished")
        for proc in procs:
            if proc.popen.poll() is not None:
                raise RuntimeError(f"worker died:\n{proc.log()[-3000:]}")
        elapsed = time.monotonic() - started
        left = (n - done) * elapsed / done if done else 0.0
        time.sleep(min(max(left / 2, 0.1), 2.0))


def _median_of(runs: list[dict[str, float]], key: str) -> float:
    return median([r.get(key, float("nan")) for r in runs])


def burst_rows(scenario: str, setting: str, runs: list[dict[str, float]]) -> list[Row]:
    m = lambda key: _median_of(runs, key)
    return [
        (scenario, setting, "wall time until all runs recorded (s)", m("wall_s")),
        (scenario, setting, "executions/s", m("per_s")),
        (
            scenario,
            setting,
            "start lag p50 / p99 / max (s)",
            f"{m('lag_p50'):.2f} / {m('lag_p99'):.2f} / {m('lag_max'):.2f}",
        ),
        (scenario, setting, "worker CPU per run, burst window (ms)", m("burst_cpu_ms_per_run")),
        (
            scenario,
            setting,
            "PostgreSQL backend CPU per run, burst window (ms)",
            m("pg_cpu_ms_per_run"),
        ),
        (scenario, setting, "worker CPU per run, whole process (ms)", m("cpu_ms_per_job")),
    ]


def scenario_burst(n: int, repeats: int, log_dir: Path) -> tuple[list[Row], dict[str, Any]]:
    rows: list[Row] = []
    raw: dict[str, Any] = {}
    with scratch_postgres("burst") as url:
        engine = engine_for(url)
        insert_noop_jobs(engine, n, now() + timedelta(days=365))
        for workers in (1, 2):
            runs = [burst_once(url, engine, n, workers, log_dir) for _ in range(repeats)]
            raw[workers] = runs
            rows += burst_rows("1 Burst (PostgreSQL)", f"{n:,} jobs, {workers} worker(s)", runs)
        engine.dispose()
    return rows, raw


def scenario_sqlite(n: int, repeats: int, log_dir: Path) -> list[Row]:
    with scratch_sqlite() as url:
        engine = engine_for(url)
        insert_noop_jobs(engine, n, now() + timedelta(days=365))
        runs = [burst_once(url, engine, n, 1, log_dir) for _ in range(repeats)]
        engine.dispose()
    return burst_rows("7 Burst (SQLite file)", f"{n:,} jobs, 1 worker", runs)


def spread_setting(n: int, spread_s: float) -> str:
    return f"{n:,} jobs over {spread_s:.0f} s, 1 worker"


def spread_rows(setting: str, runs: list[dict[str, float]]) -> list[Row]:
    m = lambda key: _median_of(runs, key)
    lag = f"{m('lag_p50'):.3f} / {m('lag_p99'):.3f} / {m('lag_max'):.3f}"
    return [("2 Spread", setting, "start lag p50 / p99 / max (s)", lag)]


def scenario_spread(
    n: int, spread_s: float, repeats: int, log_dir: Path
) -> tuple[list[Row], list[dict[str, float]]]:
    with scratch_postgres("spread") as url:
        engine = engine_for(url)
        insert_noop_jobs(engine, n, now() + timedelta(days=365))
        runs = [burst_once(url, engine, n, 1, log_dir, spread_s) for _ in range(repeats)]
        engine.dispose()
    return spread_rows(spread_setting(n, spread_s), runs), runs


def scenario_growth(
    sizes: list[int], repeats: int, log_dir: Path, budget_s: float = 600
) -> list[Row]:
    """Bursts of growing size with 2 workers. A size whose predicted time for all repeats
    (linear from the previous size) exceeds budget_s is skipped and reported as such."""
    rows: list[Row] = []
    per_job = None
    for n in sizes:
        setting = f"{n:,} jobs, 2 workers"
        metric = "wall time (s) / per 1,000 jobs (s)"
        if per_job is not None and per_job * n * repeats > budget_s:
            rows.append(
                (
                    "4 Growth",
                    setting,
                    metric,
                    f"skipped: would take ~{per_job * n * repeats / 60:.0f} min",
                )
            )
            continue
        with scratch_postgres("growth") as url:
            engine = engine_for(url)
            insert_noop_jobs(engine, n, now() + timedelta(days=365))
            runs = [burst_once(url, engine, n, 2, log_dir) for _ in range(repeats)]
            engine.dispose()
        wall = _median_of(runs, "wall_s")
        per_job = wall / n
        rows.append(("4 Growth", setting, metric, f"{wall:.2f} / {wall * 1000 / n:.3f}"))
        worker_cpu, pg_cpu = (
            _median_of(runs, k) for k in ("burst_cpu_ms_per_run", "pg_cpu_ms_per_run")
        )
        cpu = f"{worker_cpu:.3f} / {pg_cpu:.3f}"
        rows.append(
            ("4 Growth", setting, "worker / PostgreSQL CPU per run, burst window (ms)", cpu)
        )
        # VmHWM: the most either worker held at any time, start-up and burst included.
        peak = max(r["rss_mib"] for r in runs)
        rows.append(
            ("4 Growth", setting, "peak RSS of a worker, highest of the repeats (MiB)", peak)
        )
    return rows


# --- 3 and 8: idle cost and memory ----------------------------------------------------------


def _due_query(at: Any) -> sa.Select[Any]:
    # The store's due-job query (SqlStore.due_jobs): active jobs whose next_run <= now.
    return sa.select(cron_job.c.id, cron_job.c.tenant_id).where(
        cron_job.c.is_active, cron_job.c.next_run <= at
    )


def _time_query(engine: sa.Engine, query: sa.Select[Any], times: int = 50) -> float:
    samples = []
    with engine.connect() as conn:
        conn.execute(query).all()  # warm the plan and the cache
        for _ in range(times):
            start = time.perf_counter()
            conn.execute(query).all()
            samples.append(time.perf_counter() - start)
    return median(samples) * 1000


def _plan(engine: sa.Engine, query: sa.Select[Any]) -> str:
    compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as conn:
        lines = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {compiled}")
        plan = [line for (line,) in lines]
    return next((line.strip() for line in plan if "Index" in line or "Scan" in line), plan[0])


def scenario_idle(
    sizes: list[int], window_s: float, repeats: int, log_dir: Path
) -> tuple[list[Row], dict[int, float]]:
    rows: list[Row] = []
    rss: dict[int, float] = {}
    for n in sizes:
        with scratch_postgres("idle") as url:
            engine = engine_for(url)
            # None due: spread over the next 24 h, starting an hour from now.
            insert_noop_jobs(engine, n, now() + timedelta(hours=1), spread_s=86_400)
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE cron_job")
            query = _due_query(now())
            ms = median([_time_query(engine, query) for _ in range(repeats)])
            plan = _plan(engine, query)
            worker = Proc([CRONBASE, "worker"], cronbase_env(url), log_dir, f"idle-{n}")
            cpu, resident = [], []
            try:
                worker.wait_for_log("started")
                time.sleep(1.0)
                for _ in range(repeats):
                    before = cpu_seconds(worker.pid)
                    time.sleep(window_s)
                    cpu.append((cpu_seconds(worker.pid) - before) / window_s * 100)
                    resident.append(memory_kib(worker.pid)["VmRSS"] / 1024)
                rss[n] = median(resident)
            finally:
                worker.stop()
            engine.dispose()
        setting = f"{n:,} jobs, none due"
        rows += [
            ("3 Idle cost", setting, "due-job query, client round trip (ms)", ms),
            ("3 Idle cost", setting, "due-job query plan", f"`{plan}`"),
            (
                "3 Idle cost",
                setting,
                f"idle worker CPU over {window_s:.0f} s (% of a core)",
                median(cpu),
            ),
        ]
    return rows, rss


# --- 5 API ------------------------------------------------------------------------------------


async def _load(base: str, token: str, method: str, seconds: float, concurrency: int):
    import httpx

    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + seconds
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def one_client(client: httpx.AsyncClient, index: int) -> None:
        nonlocal errors
        i = 0
        while time.perf_counter() < stop_at:
            start = time.perf_counter()
            if method == "GET":
                response = await client.get("/api/cron/jobs", params={"limit": 100})
                ok = response.status_code == 200
            else:
                i += 1
                body = {
                    "name": f"api-{index}-{i}-{time.time_ns()}",
                    "schedule": "daily",
                    "function_name": "noop",
                }
                response = await client.post("/api/cron/jobs", json=body)
                ok = response.status_code == 201
            latencies.append(time.perf_counter() - start)
            errors += not ok

    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=30
    ) as client:
        started = time.perf_counter()
        await asyncio.gather(*(one_client(client, k) for k in range(concurrency)))
        elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, latencies, errors


def scenario_api(
    n: int, seconds: float, repeats: int, log_dir: Path, concurrency: int = 32
) -> list[Row]:
    print(f"   load generator: {LOADGEN} ({WRK or 'wrk is not on PATH'})", file=sys.stderr)  # noqa: T201
    rows: list[Row] = []
    with scratch_postgres("api") as url:
        engine = engine_for(url)
        insert_noop_jobs(engine, n, now() + timedelta(days=1))
        env = cronbase_env(url)
        token = superadmin_token(env)
        for processes in (1, 4):
            server, base = start_api(env, log_dir, f"uvicorn-{processes}", processes)
            try:
                for method in ("GET", "POST"):
                    _measure(base, token, method, 1.0, 8, log_dir)  # warm up
                    results, cpu = [], []
                    for _ in range(repeats):
                        # The server's CPU and its PostgreSQL backends' over the requests (one
                        # process: with four, the children are not the pid started).
                        window = CpuWindow(engine, [server.pid])
                        window.start()
                        results.append(_measure(base, token, method, seconds, concurrency, log_dir))
                        spent = window.stop()
                        done = results[-1][0] * max(seconds, 1)
                        cpu.append((spent[0] / done * 1000, spent[1] / done * 1000))
                    if any(errs for *_, errs in results):
                        raise RuntimeError(f"{method}: non-2xx answers: {server.log()[-2000:]}")
                    what = (
                        "GET /api/cron/jobs?limit=100" if method == "GET" else "POST /api/cron/jobs"
                    )
                    setting = f"{what}, {n:,} jobs, {processes} server process(es)"
                    rows += [
                        (
                            "5 API",
                            setting,
                            f"requests/s ({LOADGEN})",
                            median([r[0] for r in results]),
                        ),
                        (
                            "5 API",
                            setting,
                            f"latency p50 / p99 (ms, {LOADGEN})",
                            (
                                f"{median([r[1] for r in results]) * 1000:.1f} / "
                                f"{median([r[2] for r in results]) * 1000:.1f}"
                            ),
                        ),
                    ]
                    if processes == 1:
                        server_ms, postgres_ms = (median([c[i] for c in cpu]) for i in (0, 1))
                        metric = "CPU per request, server / PostgreSQL (ms)"
                        rows.append(
                            ("5 API", setting, metric, f"{server_ms:.2f} / {postgres_ms:.2f}")
                        )
            finally:
                server.stop()
        engine.dispose()
    return rows


WRK = shutil.which("wrk")
LOADGEN = "wrk" if WRK else "httpx"
_POST_BODY = '{"name": "bench-api", "schedule": "daily", "function_name": "noop"}'


def _measure(
    base: str, token: str, method: str, seconds: float, concurrency: int, log_dir: Path
) -> tuple[float, float, float, int]:
    """(requests/s, p50 s, p99 s, non-2xx count), with wrk if installed, else async httpx."""
    if not WRK:
        rps, latencies, errors = asyncio.run(_load(base, token, method, seconds, concurrency))
        return rps, percentile(latencies, 50), percentile(latencies, 99), errors
    script = log_dir / "post.lua"
    script.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = '{_POST_BODY}'\n"
    )
    url = f"{base}/api/cron/jobs" + ("?limit=100" if method == "GET" else "")
    args = [
        WRK,
        "-t1",
        f"-c{concurrency}",
        f"-d{max(seconds, 1):.0f}s",
        "--latency",
        "-H",
        f"Authorization: Bearer {token}",
        url,
    ]
    if method == "POST":
        args[1:1] = ["-s", str(script)]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    (log_dir / f"wrk-{method}.log").write_text(out)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0

    def pct(label: str) -> float:
        value, unit = re.search(
            rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE
        ).groups()
        return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[unit]

    return rps, pct("50"), pct("99"), errors


# --- 6 built-in jobs at scale ---------------------------------------------------------------
#
# Each job runs as a due job row through `cronbase run-due` (a process of its own, so its peak
# RSS is the command's), on data bulk-loaded with INSERT ... SELECT generate_series. Every run
# checks that the job did the work it reports, so a broken job cannot post a fast time.

TENANT = "00000000-0000-0000-0000-00000000b0b0"


def _vacuum(engine: sa.Engine, *tables: str) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"VACUUM ANALYZE {', '.join(tables)}")


def _run_builtin(
    url: str, engine: sa.Engine, function_name: str, metadata: dict[str, Any], log_dir: Path
) -> dict[str, Any]:
    """Insert one due global job row for `function_name`, run `cronbase run-due`, and return
    job time, command time, the command's peak RSS and the run's result."""
    with engine.begin() as conn:
        conn.execute(cron_job_run.delete())
        conn.execute(cron_job.delete())
        conn.execute(
            cron_job.insert().values(
                name=f"bench {function_name}",
                schedule="daily",
                function_name=function_name,
                next_run=now() - timedelta(seconds=1),
                metadata=metadata,
            )
        )
    log_path = log_dir / f"run-due-{function_name}.log"
    with log_path.open("wb") as log:
        start = time.perf_counter()
        child = subprocess.Popen(
            [CRONBASE, "run-due"], env=cronbase_env(url), stdout=log, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(log_path.read_text()[-3000:])
    with engine.connect() as conn:
        run = conn.execute(sa.select(cron_job_run)).one()
    if run.status != "succeeded":
        raise RuntimeError(f"{function_name} failed: {run.error}")
    return {
        "job_s": (run.finished_at - run.started_at).total_seconds(),
        "cli_s": elapsed,
        "rss": usage.ru_maxrss / 1024,  # KiB on Linux
        "result": run.result,
    }


def _check(what: str, got: object, expected: object) -> None:
    if got != expected:
        raise RuntimeError(f"{what}: expected {expected!r}, got {got!r}")


def _builtin_rows(
    scenario: str, setting: str, runs: list[dict[str, Any]], rate: str, per_s: float
) -> list[Row]:
    m = lambda key: median([r[key] for r in runs])
    return [
        (scenario, setting, "job time (s) / whole `cronbase run-due` (s)",
         f"{m('job_s'):.2f} / {m('cli_s'):.2f}"),
        (scenario, setting, rate, per_s),
        (scenario, setting, "peak RSS of `cronbase run-due` (MiB)", m("rss")),
    ]  # fmt: skip


# markUsersOffline


def _insert_people(engine: sa.Engine, table: sa.Table, n: int, stale_every: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                f"INSERT INTO {table.name} (email, metadata)"
                " SELECT 'p' || g || '@example.com', jsonb_build_object("
                "   'live_status', 'online', 'theme', 'dark',"
                "   'last_seen', to_char((now() - CASE WHEN g % :k = 0 THEN interval '1 hour'"
                "     ELSE interval '10 seconds' END) AT TIME ZONE 'UTC',"
                """     'YYYY-MM-DD"T"HH24:MI:SS"Z"'))"""
                " FROM generate_series(1, :n) g"
            ),
            {"n": n, "k": stale_every},
        )


def scenario_mark_offline(n: int, repeats: int, log_dir: Path) -> list[Row]:
    runs = []
    with scratch_postgres("offline") as url:
        engine = engine_for(url)
        for table in (users, employees):
            _insert_people(engine, table, n, 10)
        for _ in range(repeats):
            with engine.begin() as conn:
                for table in (users, employees):
                    conn.exec_driver_sql(
                        f"UPDATE {table.name} SET metadata = metadata"
                        """ || '{"live_status": "online"}'"""
                        " WHERE metadata->>'live_status' = 'offline'"
                    )
            _vacuum(engine, "users", "employees")
            run = _run_builtin(url, engine, "markUsersOffline", {"timeout_minutes": 5}, log_dir)
            _check("markUsersOffline total", run["result"]["total"], 2 * (n // 10))
            with engine.connect() as conn:
                offline = sum(
                    conn.execute(
                        sa.select(sa.func.count()).where(
                            table.c.metadata["live_status"].as_string() == "offline"
                        )
                    ).scalar_one()
                    for table in (users, employees)
                )
            _check("rows offline after markUsersOffline", offline, 2 * (n // 10))
            runs.append(run)
        engine.dispose()
    marked = median([r["result"]["total"] for r in runs])
    return _builtin_rows(
        "6 markUsersOffline",
        f"{n:,} users + {n:,} employees, 10% stale",
        runs,
        f"rows scanned/s ({marked:,.0f} marked offline)",
        2 * n / median([r["job_s"] for r in runs]),
    )


# cleanOldActivities

RETENTION_DAYS = 90


def _load_activities(engine: sa.Engine, n: int) -> None:
    """n activities in created_at order: the first half 200 days old (past the retention), the
    rest a month old; one second apart within each half."""
    with engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE activities, activities_archive")
        conn.execute(
            sa.text(
                "INSERT INTO activities"
                " (tenant_id, type, subject, related_to, related_name, metadata, created_at)"
                " SELECT CAST(:tenant AS uuid), 'call', 'Call about order ' || g, 'account',"
                "   'Account ' || (g % 1000), jsonb_build_object('duration_s', g % 600),"
                "   now() - CASE WHEN g <= :old THEN interval '200 days'"
                "     ELSE interval '30 days' END + g * interval '1 second'"
                " FROM generate_series(1, :n) g"
            ),
            {"tenant": TENANT, "n": n, "old": n // 2},
        )
    _vacuum(engine, "activities", "activities_archive")


def scenario_clean_activities(n: int, repeats: int, log_dir: Path) -> list[Row]:
    old, runs = n // 2, []
    options = {"retention_days": RETENTION_DAYS, "mode": "archive", "batch_size": 1000}
    with scratch_postgres("activities") as url:
        engine = engine_for(url)
        with engine.begin() as conn:
            conn.execute(tenants.insert().values(id=uuid.UUID(TENANT), name="bench"))
        for _ in range(repeats):
            _load_activities(engine, n)
            run = _run_builtin(url, engine, "cleanOldActivities", options, log_dir)
            _check("cleanOldActivities archived", run["result"]["archived"], old)
            with engine.connect() as conn:
                left, archived, too_old = conn.execute(
                    sa.text(
                        "SELECT (SELECT count(*) FROM activities),"
                        " (SELECT count(*) FROM activities_archive),"
                        " (SELECT count(*) FROM activities"
                        "   WHERE created_at < now() - make_interval(days => :days))"
                    ),
                    {"days": RETENTION_DAYS},
                ).one()
            _check("activities left / archived / older than the retention",
                   (left, archived, too_old), (n - old, old, 0))  # fmt: skip
            runs.append(run)
        engine.dispose()
    batches = median([r["result"]["batches"] for r in runs])
    return _builtin_rows(
        "6 cleanOldActivities",
        f"{n:,} activities, {old:,} past {RETENTION_DAYS} days; archive, batches of 1,000",
        runs,
        f"rows archived/s ({batches:,.0f} batches)",
        old / median([r["job_s"] for r in runs]),
    )


# syncDenormalizedFields

_STALE_CONTACTS = """
    SELECT count(*) FROM contacts c LEFT JOIN accounts a ON a.id = c.account_id
    WHERE c.account_name IS DISTINCT FROM a.name"""
_STALE_ACCOUNTS = """
    SELECT count(*) FROM accounts a
    LEFT JOIN (SELECT account_id, count(*) AS n FROM contacts GROUP BY account_id) c
      ON c.account_id = a.id
    WHERE a.contact_count <> coalesce(c.n, 0)"""


def _load_accounts_contacts(engine: sa.Engine, accounts_n: int, contacts_n: int) -> None:
    """accounts_n accounts and contacts_n contacts spread over them. Stale, as after a day of
    edits: every 10th account was renamed (its contacts hold the old name) and has a wrong
    contact_count; every 100th contact lost its account but still holds a name."""
    with engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE accounts, contacts")
        conn.execute(
            sa.text(
                "INSERT INTO accounts (id, tenant_id, name)"
                " SELECT CAST(md5('account-' || k) AS uuid), CAST(:tenant AS uuid),"
                "   'Account ' || k || CASE WHEN k % 10 = 0 THEN ' (renamed)' ELSE '' END"
                " FROM generate_series(1, :a) k"
            ),
            {"tenant": TENANT, "a": accounts_n},
        )
        conn.execute(
            sa.text(
                "INSERT INTO contacts"
                " (tenant_id, account_id, first_name, last_name, email, account_name)"
                " SELECT CAST(:tenant AS uuid),"
                "   CASE WHEN g % 100 = 0 THEN NULL"
                "     ELSE CAST(md5('account-' || (g % :a + 1)) AS uuid) END,"
                "   'First' || g, 'Last' || g, 'c' || g || '@example.com',"
                "   CASE WHEN g % 100 = 0 THEN 'Gone Ltd' ELSE 'Account ' || (g % :a + 1) END"
                " FROM generate_series(1, :c) g"
            ),
            {"tenant": TENANT, "a": accounts_n, "c": contacts_n},
        )
        conn.execute(
            sa.text(
                "UPDATE accounts a SET contact_count = c.n + CASE WHEN a.name LIKE '%(renamed)'"
                "   THEN 1 ELSE 0 END"
                " FROM (SELECT account_id, count(*) AS n FROM contacts GROUP BY account_id) c"
                " WHERE c.account_id = a.id"
            )
        )
    _vacuum(engine, "accounts", "contacts")


def scenario_sync_fields(
    accounts_n: int, contacts_n: int, repeats: int, log_dir: Path
) -> list[Row]:
    runs = []
    with scratch_postgres("sync") as url:
        engine = engine_for(url)
        with engine.begin() as conn:
            conn.execute(tenants.insert().values(id=uuid.UUID(TENANT), name="bench"))
        for _ in range(repeats):
            _load_accounts_contacts(engine, accounts_n, contacts_n)
            with engine.connect() as conn:
                stale = [
                    conn.exec_driver_sql(q).scalar_one() for q in (_STALE_CONTACTS, _STALE_ACCOUNTS)
                ]
            _check("some contacts and accounts stale before the job", min(stale) > 0, True)
            run = _run_builtin(url, engine, "syncDenormalizedFields", {}, log_dir)
            result = run["result"]
            _check(
                "syncDenormalizedFields changed contacts / accounts",
                [result["contacts_account_name"], result["accounts_contact_count"]],
                stale,
            )
            with engine.connect() as conn:
                left = [
                    conn.exec_driver_sql(q).scalar_one() for q in (_STALE_CONTACTS, _STALE_ACCOUNTS)
                ]
            _check("stale contacts / accounts after syncDenormalizedFields", left, [0, 0])
            runs.append(run)
        engine.dispose()
    synced = median([r["result"]["total"] for r in runs])
    return _builtin_rows(
        "6 syncDenormalizedFields",
        f"{accounts_n:,} accounts + {contacts_n:,} contacts, 10% of accounts stale",
        runs,
        f"rows scanned/s ({synced:,.0f} rows synced)",
        (accounts_n + contacts_n) / median([r["job_s"] for r in runs]),
    )


def scenario_memory(rss: dict[int, float], n: int) -> list[Row]:
    return [("8 Memory", f"{n:,} jobs in the table, idle worker", "worker RSS (MiB)", rss[n])]
