"""Lists at scale, on the local PostgreSQL: every page of jobs and runs that the API would ask
for, at 100,000 jobs and 10,000,000 runs, with its time in the database and its plan.

Usage: .venv/bin/python bench/lists.py [--jobs 100000] [--tenants 1000] [--runs 10000000]
                                       [--keep NAME]

It works in a scratch database `cronbase_bench_lists_...` (created, migrated, loaded, dropped),
or with --keep NAME in the database NAME, which is loaded on first use and kept (and migrated
to the head again each time): the load takes many minutes, the measurement one.

The statements are the store's own (SqlStore.list_jobs and SqlStore.list_runs, captured as
they are issued), each then run under EXPLAIN (ANALYZE, BUFFERS); then the name searches
without the trigram index, and what a pass of the workers' refresher of the list's copy of last
runs costs (store/search.py). It prints a Markdown report (see bench/README.md, "Lists at
scale").
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parent))

import sqlalchemy as sa
from harness import (
    BASE_URL,
    PREFIX,
    _with_db,
    admin_engine,
    median,
    now,
    sa_url,
    scratch_postgres,
)
from sqlalchemy import event
from sqlalchemy.schema import CreateIndex, DropIndex

from cronbase.listing import JOB_SORTS, RUN_ORDER, JobQuery, RunQuery, parse_sort
from cronbase.store import SqlStore, search
from cronbase.store.migrate import upgrade
from cronbase.store.tables import SEARCH_TRIGRAM_INDEX, cron_job, cron_job_run, cron_setting

PAGE = 100  # the API's default page of jobs (the UI asks for 100)
RUN_PAGE = 50  # ... and of runs
BUSY_RUNS = 500_000  # one job that ran every minute for a year: the longest history
# Name parts: a search for one of these words matches a known share of the jobs.
VERBS = ["sync", "export", "report", "cleanup", "invoice", "remind", "backup", "digest"]
NOUNS = ["contacts", "deals", "emails", "tasks", "accounts"]
FUNCTIONS = ["noop", "sync", "export", "report", "cleanup", "invoice", "remind", "backup"]

report: list[str] = []


def say(line: str = "") -> None:
    print(line, flush=True)  # noqa: T201
    report.append(line)


def note(line: str) -> None:
    print(f"   {line}", file=sys.stderr, flush=True)  # noqa: T201


# --- the data -----------------------------------------------------------------------------


def load(engine: sa.Engine, jobs: int, tenants: int, runs: int) -> None:
    """`tenants` tenants; `jobs` jobs: a tenth in the first tenant (a big one), 100 global,
    the rest spread over the other tenants; `runs` runs: BUSY_RUNS of the first job, the rest
    spread evenly over the others. Set-based, the run table's indexes built after the load."""
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO tenants (name) SELECT 'tenant-' || lpad(g::text, 5, '0')"
                " FROM generate_series(1, :n) g"
            ),
            {"n": tenants},
        )
        conn.execute(
            _JOBS,
            {
                "n": jobs,
                "tenants": tenants,
                "now": now(),
                "big": jobs // 10,
                "verbs": VERBS,
                "nouns": NOUNS,
                "functions": FUNCTIONS,
            },
        )
    say(f"- loaded {tenants:,} tenants and {jobs:,} jobs in {time.perf_counter() - t0:.0f} s")
    with engine.begin() as conn:
        for index in cron_job_run.indexes:
            conn.execute(DropIndex(index, if_exists=True))
    per_job = (runs - BUSY_RUNS) // (jobs - 1)
    chunk = max(1_000_000 // per_job, 1)
    t0 = time.perf_counter()
    _insert_runs(engine, 1, 1, BUSY_RUNS, 60.0)
    for first in range(2, jobs + 1, chunk):
        _insert_runs(engine, first, min(first + chunk - 1, jobs), per_job, 86400.0)
        note(f"runs of jobs {first}..{first + chunk - 1} ({time.perf_counter() - t0:.0f} s)")
    total = BUSY_RUNS + per_job * (jobs - 1)
    say(f"- loaded {total:,} runs in {time.perf_counter() - t0:.0f} s")
    t0 = time.perf_counter()
    for index in cron_job_run.indexes:
        with engine.begin() as conn:
            conn.execute(CreateIndex(index))
    say(
        f"- built the run table's {len(cron_job_run.indexes)} indexes in "
        f"{time.perf_counter() - t0:.0f} s"
    )
    t0 = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    say(f"- VACUUM ANALYZE: {time.perf_counter() - t0:.0f} s")


# Job g (1..n): its tenant (the first tenant holds `big` jobs; every 1,000th is global), a name
# made of a verb, a noun and g ("sync-deals-4711"), one of the functions, paused one in 20
# (without next_run), never run one in 10 (without last_run and last_status), statuses in
# realistic shares (failed 8 %, timed out 1 %, abandoned 0.1 %), created one a second.
_JOBS = sa.text(
    """
    WITH t AS (SELECT id, row_number() OVER (ORDER BY name) AS k FROM tenants)
    INSERT INTO cron_job (tenant_id, name, schedule, function_name, is_active, next_run,
                          last_run, last_status, created_at, updated_at)
    SELECT CASE WHEN g % 1000 = 0 THEN NULL ELSE t.id END,
           (CAST(:verbs AS text[]))[1 + g % 8] || '-' || (CAST(:nouns AS text[]))[1 + (g / 8) % 5]
             || '-' || g,
           'daily',
           (CAST(:functions AS text[]))[1 + (g / 40) % 8],
           g % 20 <> 0,
           CASE WHEN g % 20 <> 0
                THEN CAST(:now AS timestamptz) + ((g::bigint * 7919) % 86400) * interval '1 second' END,
           CASE WHEN g % 10 <> 3
                THEN CAST(:now AS timestamptz) - ((g::bigint * 104729) % 86400) * interval '1 second' END,
           CASE WHEN g % 10 = 3 THEN NULL
                WHEN g % 1000 = 999 THEN 'abandoned'
                WHEN g % 100 = 98 THEN 'timed_out'
                WHEN g % 100 >= 90 THEN 'failed'
                ELSE 'succeeded' END,
           CAST(:now AS timestamptz) - (:n - g) * interval '1 second',
           CAST(:now AS timestamptz)
    FROM generate_series(1, :n) g
    JOIN t ON t.k = CASE WHEN g <= :big THEN 1 ELSE 2 + g % (:tenants - 1) END
    """
)


def _insert_runs(engine: sa.Engine, first: int, last: int, per_job: int, step_s: float) -> None:
    """`per_job` runs of each of the jobs first..last (by creation), one every `step_s`
    seconds back from now; failed one in 50, timed out one in 997, manual one in 200."""
    with engine.begin() as conn:
        # The foreign key's per-row check is skipped while loading (every job_id is a job).
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        conn.execute(
            sa.text(
                """
                WITH j AS (SELECT id, tenant_id, row_number() OVER (ORDER BY created_at) AS k
                           FROM cron_job)
                INSERT INTO cron_job_run (job_id, tenant_id, scheduled_for, started_at,
                                          finished_at, status, trigger, worker_id, result)
                SELECT j.id, j.tenant_id, s.slot, s.slot + interval '10 ms',
                       s.slot + interval '60 ms',
                       CASE WHEN (j.k + s.g) % 997 = 0 THEN 'timed_out'
                            WHEN (j.k + s.g) % 50 = 0 THEN 'failed'
                            ELSE 'succeeded' END,
                       CASE WHEN (j.k + s.g) % 200 = 7 THEN 'manual' ELSE 'schedule' END,
                       'bench-lists', '{}'::jsonb
                FROM j CROSS JOIN LATERAL (
                  SELECT g, CAST(:start AS timestamptz)
                           - (g * CAST(:step AS double precision)) * interval '1 second' AS slot
                  FROM generate_series(1, :per_job) g) s
                WHERE j.k BETWEEN :first AND :last
                """
            ),
            {"start": now(), "step": step_s, "per_job": per_job, "first": first, "last": last},
        )


@contextmanager
def kept_postgres(name: str) -> Iterator[tuple[str, bool]]:
    """The database `name`, created and migrated if missing, migrated to the head if not;
    never dropped. Yields its URL and whether it holds jobs already."""
    admin = admin_engine()
    with admin.connect() as conn:
        exists = conn.exec_driver_sql(
            "SELECT 1 FROM pg_database WHERE datname = %(n)s", {"n": name}
        ).first()
        if not exists:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    url = _with_db(BASE_URL, name)
    store = SqlStore.from_url(sa_url(url))
    t0 = time.perf_counter()
    before, after = upgrade(store.engine)
    if before != after:
        say(f"- migrated {before} -> {after} in {time.perf_counter() - t0:.1f} s")
    with store.engine.connect() as conn:
        loaded = conn.execute(sa.select(sa.func.count()).select_from(cron_job)).scalar_one() > 0
    store.close()
    yield url, loaded


@contextmanager
def database(keep: str | None) -> Iterator[tuple[str, bool]]:
    if keep is None:
        with scratch_postgres("lists") as url:
            yield url, False
    else:
        with kept_postgres(keep if keep.startswith(PREFIX) else PREFIX + keep) as found:
            yield found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--tenants", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=10_000_000)
    parser.add_argument("--keep", metavar="NAME", help="load into database NAME once, keep it")
    parser.add_argument("--load-only", action="store_true", help="load, measure nothing")
    parser.add_argument("--plans", metavar="FILE", help="write every statement and plan here")
    args = parser.parse_args()
    started = time.time()
    say(f"# Lists at scale: {args.jobs:,} jobs of {args.tenants:,} tenants, {args.runs:,} runs")
    say("")
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    say(f"- {time.strftime('%Y-%m-%d %H:%M %Z')}, {os.cpu_count()} cores, load {load_before}")
    with database(args.keep) as (url, loaded):
        store = SqlStore.from_url(sa_url(url))
        if not loaded:
            load(store.engine, args.jobs, args.tenants, args.runs)
        if not args.load_only:
            measure(store)
            if args.plans:
                Path(args.plans).write_text("\n".join(plans) + "\n")
        store.close()
    say(
        f"- whole run {(time.time() - started) / 60:.1f} min; load after "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
    )
    return 0


# --- the measurement ----------------------------------------------------------------------

Statement = tuple[str, Any]


def issued(store: SqlStore, call: Callable[[], Any]) -> tuple[Any, list[Statement]]:
    """What `call` returns, and the statements it sent to the database."""
    statements: list[Statement] = []

    def capture(_c: Any, _cur: Any, statement: str, params: Any, *_rest: Any) -> None:
        statements.append((statement, params))

    event.listen(store.engine, "before_cursor_execute", capture)
    try:
        return call(), statements
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)


def explained(store: SqlStore, statement: Statement, repeats: int = 3) -> tuple[float, list[str]]:
    """The median execution time (ms) of `repeats` EXPLAIN (ANALYZE, BUFFERS) of a statement,
    and the plan of the last."""
    times, plan = [], []
    for _ in range(repeats):
        with store.engine.connect() as conn:
            plan = [
                line
                for (line,) in conn.exec_driver_sql(
                    f"EXPLAIN (ANALYZE, BUFFERS) {statement[0]}", statement[1]
                )
            ]
        execution = next(line for line in plan if line.startswith("Execution Time"))
        times.append(float(execution.split(": ")[1].split(" ")[0]))
    return median(times), plan


def gist(plan: list[str]) -> str:
    """The plan's nodes from the top, without costs (the first five)."""
    nodes = [plan[0]] + [line.split("->", 1)[1] for line in plan[1:] if "->" in line]
    return " → ".join(node.strip().split("  (")[0] for node in nodes[:5])


plans: list[str] = []


def row(store: SqlStore, what: str, call: Callable[[], Any]) -> None:
    """One line of the report: each statement `call` issues, in the database and round trip."""
    result, statements = issued(store, call)
    rounds = []
    for _ in range(10):
        t0 = time.perf_counter()
        call()
        rounds.append((time.perf_counter() - t0) * 1000)
    total, shown = 0.0, []
    for statement in statements:
        ms, plan = explained(store, statement)
        total += ms
        shown.append(f"{ms:.2f} ms: {gist(plan)}")
        plans.extend(["", f"{what}:", "", "    " + " ".join(statement[0].split()), ""])
        plans.extend(f"    {line}" for line in plan)
    rows = len(result) if isinstance(result, list | dict) else "-"
    say(
        f"| {what} | {rows} | **{total:.2f}** | {median(rounds):.1f} | " + "<br>".join(shown) + " |"
    )


def job_page(
    store: SqlStore, tenant_id: UUID | None, sort: str = "", deep: bool = False, **filters: Any
) -> Callable[[], Any]:
    """The call the API makes for GET /api/cron/jobs (JobManager.list_jobs): a page of PAGE
    and one more; `deep`: the page after the row nine tenths down the list (a cursor)."""
    order = parse_sort(sort, JOB_SORTS)
    after = None
    if deep:
        depth = _count(store, cron_job, tenant_id=tenant_id, **filters) * 9 // 10
        (there,) = store.list_jobs(
            JobQuery(tenant_id, sort=order, limit=1, offset=depth, **filters)
        )
        after = order.key_of(there)
    query = JobQuery(tenant_id, sort=order, after=after, limit=PAGE + 1, **filters)
    return lambda: store.list_jobs(query)


def job_rows(store: SqlStore, label: str, tenant_id: UUID | None) -> None:
    page = lambda **kw: job_page(store, tenant_id, **kw)
    for sort in ["", "name", "-name", "next_run", "-next_run", "last_run", "-last_run"]:
        shown = sort or "created (default)"
        row(store, f"{label}, sort {shown}, first page", page(sort=sort))
        row(store, f"{label}, sort {shown}, cursor 9/10 down", page(sort=sort, deep=True))
    row(store, f"{label}, offset 9/10 down (no cursor)", _offset_page(store, tenant_id))
    search_rows(store, label, tenant_id)
    row(store, f"{label}, function_name=noop (1/8)", page(function_name="noop"))
    row(store, f"{label}, function_name=gone (none)", page(function_name="gone"))
    row(store, f"{label}, last_status=failed (8 %)", page(last_status="failed"))
    row(store, f"{label}, last_status=abandoned (0.1 %)", page(last_status="abandoned"))
    row(
        store,
        f"{label}, last_status=failed, sort -last_run, cursor",
        page(last_status="failed", sort="-last_run", deep=True),
    )
    row(store, f"{label}, is_active=false (5 %)", page(is_active=False))


def _count(store: SqlStore, table: sa.Table, **equal: Any) -> int:
    """How many rows of `table` have these values (None: any)."""
    query = sa.select(sa.func.count()).select_from(table)
    for name, value in equal.items():
        if value is not None:
            query = query.where(table.c[name] == value)
    with store.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def _offset_page(store: SqlStore, tenant_id: UUID | None) -> Callable[[], Any]:
    depth = _count(store, cron_job, tenant_id=tenant_id) * 9 // 10
    query = JobQuery(tenant_id, limit=PAGE + 1, offset=depth)
    return lambda: store.list_jobs(query)


def run_rows(store: SqlStore, label: str, job_id: UUID) -> None:
    """GET /api/cron/jobs/{id}/runs (JobManager.list_runs): pages of RUN_PAGE and one more."""
    depth = _count(store, cron_job_run, job_id=job_id) * 9 // 10
    (there,) = store.list_runs(job_id, RunQuery(limit=1, offset=depth))
    deep = RUN_ORDER.key_of(there)

    def page(**kw: Any) -> Callable[[], Any]:
        query = RunQuery(limit=RUN_PAGE + 1, **kw)
        return lambda: store.list_runs(job_id, query)

    row(store, f"{label}, first page", page())
    row(store, f"{label}, cursor 9/10 down", page(after=deep))
    for status, share in [("failed", "2 %"), ("timed_out", "0.1 %"), ("abandoned", "none")]:
        row(store, f"{label}, status={status} ({share})", page(status=status))


LISTING_INDEXES = [  # what migration 0022 adds to cron_job
    "ix_cron_job_name_order",
    "ix_cron_job_next_run_order",
]
# A trigram index of the name on cron_job itself, as README advised before migration 0023 (which
# drops it and puts one on cron_job_search, which claims never touch).
NAME_SEARCH = (
    "CREATE INDEX IF NOT EXISTS ix_cron_job_name_search ON cron_job USING gin (name gin_trgm_ops)"
)
SEARCH_TRIGRAM = (
    f"CREATE INDEX IF NOT EXISTS {SEARCH_TRIGRAM_INDEX} ON cron_job_search "
    "USING gin (name gin_trgm_ops)"
)


def write_cost(store: SqlStore, jobs: int = 10_000, batch: int = 500) -> None:
    """What the listing indexes cost the runner: each claim rewrites a job's row (next_run and
    last_run change, so the update is not HOT and every index of cron_job gets an entry).
    The same updates timed without them, with them, and with the trigram index too, each in a
    transaction that is rolled back (DROP and CREATE INDEX are transactional)."""
    with store.engine.connect() as conn:
        ids = [i for (i,) in conn.execute(sa.select(cron_job.c.id).limit(jobs))]
    update = sa.text(
        "UPDATE cron_job SET next_run = next_run + interval '1 day', last_run = now(),"
        " last_status = 'running', missed_since_last_run = 0 WHERE id = ANY(:ids)"
    )
    variants = {
        "without the listing indexes": [f"DROP INDEX {name}" for name in LISTING_INDEXES],
        "with them (as migrated)": [],
        "with them and the optional trigram index": [NAME_SEARCH],
    }
    times: dict[str, list[float]] = {label: [] for label in variants}
    for _ in range(3):  # interleaved: the machine's load changes by the minute
        for label, ddl in variants.items():
            with store.engine.connect() as conn, conn.begin():
                for statement in ddl:
                    conn.exec_driver_sql(statement)
                t0 = time.perf_counter()
                for first in range(0, len(ids), batch):
                    conn.execute(update, {"ids": ids[first : first + batch]})
                times[label].append((time.perf_counter() - t0) * 1000)
                conn.rollback()
    for label, samples in times.items():
        say(
            f"- {len(ids):,} claims' updates of the job row ({batch} a statement), {label}: "
            f"{median(samples):.0f} ms (median of 3; {median(samples) / len(ids) * 1000:.0f} "
            "us a job)"
        )


def without_name_search(store: SqlStore, callers: list[tuple[str, UUID | None]]) -> None:
    """The name searches again without the trigram index (as where pg_trgm cannot be had):
    dropped, measured, made again."""
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {SEARCH_TRIGRAM_INDEX}")
    say("")
    say("Without the trigram index of cron_job_search (where pg_trgm cannot be had):")
    say("")
    say(HEADER)
    say("|---|---:|---:|---:|---|")
    for label, tenant_id in callers:
        search_rows(store, label, tenant_id)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        t0 = time.perf_counter()
        conn.exec_driver_sql(SEARCH_TRIGRAM)
        built = time.perf_counter() - t0
        conn.exec_driver_sql("ANALYZE cron_job_search")
    say("")
    say(f"- the trigram index of cron_job_search built again in {built:.1f} s")


HEADER = "| List | rows | DB ms | round trip ms | each statement: DB ms, plan |"


def search_rows(store: SqlStore, label: str, tenant_id: UUID | None) -> None:
    def page(**kw: Any) -> Callable[[], Any]:
        return job_page(store, tenant_id, **kw)

    for q, share in [("sync", "1/8"), ("deals-4", "1/50"), ("77777", "1 job"), ("zzz", "none")]:
        row(store, f"{label}, q={q} (matches {share})", page(q=q))
    row(store, f"{label}, q=sync, sort -next_run", page(q="sync", sort="-next_run"))
    row(store, f"{label}, q=77777, sort -last_run", page(q="77777", sort="-last_run"))
    row(store, f"{label}, q=sy (2 letters, 1/8)", page(q="sy"))
    row(store, f"{label}, q=zz (2 letters, none)", page(q="zz"))


def refresh_cost(store: SqlStore, runs: int = 10_000) -> None:
    """What a pass of the workers' refresher (store/search.py) costs: with `runs` runs of as
    many jobs started since the previous pass (each job's last run and status changed), with
    none, and a full pass (every job compared). Each pass runs in a transaction rolled back
    (so the three see the same state), three times; then once for real."""
    at = now()
    with store.engine.begin() as conn:
        ids = [i for (i,) in conn.execute(sa.select(cron_job.c.id).order_by(cron_job.c.id))]
        ids = ids[:: max(len(ids) // runs, 1)][:runs]  # spread over the table
        conn.execute(
            sa.text(
                "INSERT INTO cron_job_run (job_id, tenant_id, scheduled_for, started_at,"
                " finished_at, status, trigger, worker_id)"
                " SELECT id, tenant_id, :at, :at, :at, 'succeeded', 'manual', 'bench-refresh'"
                " FROM cron_job WHERE id = ANY(:ids)"
            ),
            {"at": at, "ids": ids},
        )
        conn.execute(
            sa.text(
                "UPDATE cron_job SET last_run = :at, last_status = 'succeeded' WHERE id = ANY(:ids)"
            ),
            {"at": at, "ids": ids},
        )
    cases = [
        (f"{len(ids):,} runs of as many jobs since the mark", at - timedelta(seconds=1), False),
        ("no run since the mark", at + timedelta(seconds=10), False),
        ("full (every job compared)", None, True),
    ]
    for label, mark, full in cases:
        wall, copied, statements = [], 0, []
        for _ in range(3):
            with store.engine.connect() as conn, conn.begin():
                conn.execute(sa.delete(cron_setting).where(cron_setting.c.name == search.MARK))
                if mark is not None:
                    conn.execute(
                        sa.insert(cron_setting).values(name=search.MARK, value=mark.isoformat())
                    )
                seen: list[Statement] = []
                event.listen(conn, "before_cursor_execute", _capture_into(seen))
                t0 = time.perf_counter()
                done = search.refresh(
                    conn, "postgresql", holder="bench", now=at + timedelta(seconds=20),
                    every=timedelta(seconds=2), full=full,
                )  # fmt: skip
                wall.append((time.perf_counter() - t0) * 1000)
                copied = done.copied if done else -1
                statements = [st for st in seen if st[0].lstrip().upper().startswith("UPDATE")]
                conn.rollback()
        plan = _explain_rolled_back(store, statements[0]) if statements else []
        execution = next((ln for ln in plan if ln.startswith("Execution Time")), "")
        say(
            f"- refresher pass, {label}: {median(wall):.1f} ms a pass (median of 3, "
            f"round trip), {copied:,} rows copied; the UPDATE {execution.lower()}: {gist(plan)}"
        )
        plans.extend(["", f"refresher pass, {label}:", ""])
        plans.extend(f"    {line}" for line in plan)
    store.refresh_job_search(holder="bench", now=now(), every=timedelta(0))
    with store.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM cron_job_run WHERE worker_id = 'bench-refresh'"))


def _capture_into(seen: list[Statement]) -> Callable[..., None]:
    def capture(_c: Any, _cur: Any, statement: str, params: Any, *_rest: Any) -> None:
        seen.append((statement, params))

    return capture


def _explain_rolled_back(store: SqlStore, statement: Statement) -> list[str]:
    with store.engine.connect() as conn, conn.begin():
        plan = [
            line
            for (line,) in conn.exec_driver_sql(
                f"EXPLAIN (ANALYZE, BUFFERS) {statement[0]}", statement[1]
            )
        ]
        conn.rollback()
    return plan


def vacuum(store: SqlStore) -> None:
    """Clean away the row versions write_cost left (its updates are rolled back, but their
    versions stay until a VACUUM): a kept database would otherwise grow with each run."""
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE cron_job")
        conn.exec_driver_sql("VACUUM ANALYZE cron_job_search")
        conn.exec_driver_sql("VACUUM ANALYZE cron_job_last_run")


def measure(store: SqlStore) -> None:
    vacuum(store)
    # The list's copy as the workers keep it (a kept database loaded before migration 0023, or
    # changed by an earlier run of this script, is brought up to date first).
    store.refresh_job_search(holder="bench", now=now(), every=timedelta(0), full=True)
    with store.engine.connect() as conn:
        counts = conn.execute(
            sa.select(cron_job.c.tenant_id, sa.func.count())
            .where(cron_job.c.tenant_id.is_not(None))
            .group_by(cron_job.c.tenant_id)
            .order_by(sa.func.count().desc())
        ).all()
        jobs = conn.execute(
            sa.select(cron_job.c.id, sa.func.count())
            .join(cron_job_run, cron_job_run.c.job_id == cron_job.c.id)
            .where(
                cron_job.c.id.in_(sa.select(cron_job.c.id).order_by(cron_job.c.created_at).limit(2))
            )
            .group_by(cron_job.c.id)
            .order_by(sa.func.count().desc())
        ).all()
    (big, big_count), (usual, usual_count) = counts[0], counts[len(counts) // 2]
    say("")
    say(HEADER)
    say("|---|---:|---:|---:|---|")
    callers = [
        ("superadmin", None),
        (f"admin of a tenant of {big_count:,} jobs", big),
        (f"admin of a tenant of {usual_count:,} jobs", usual),
    ]
    for label, tenant_id in callers:
        job_rows(store, label, tenant_id)
    ids = [job.id for job in store.list_jobs(JobQuery(limit=PAGE))]
    row(
        store,
        "beside a page of 100 jobs: their newest 20 runs",
        lambda: store.recent_runs(ids, limit=20),
    )
    row(store, "beside a page of 100 jobs: their latest run", lambda: store.latest_runs(ids))
    for job_id, count in jobs:
        run_rows(store, f"runs of a job with {count:,}", job_id)
    without_name_search(store, callers[:2])
    say("")
    refresh_cost(store)
    say("")
    write_cost(store)
    vacuum(store)


if __name__ == "__main__":
    sys.exit(main())
