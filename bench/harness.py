"""Shared plumbing for the benchmark: scratch databases, cronbase processes, statistics."""

from __future__ import annotations

import contextlib
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from cronbase.store import SqlStore
from cronbase.store.migrate import upgrade
from cronbase.store.tables import cron_job, cron_job_run

BENCH = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
CRONBASE = str(BIN / "cronbase")
BASE_URL = os.environ.get(
    "BENCH_POSTGRES_URL",
    os.environ.get("CRONBASE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
)
PREFIX = "cronbase_bench_"


def sa_url(url: str) -> str:
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def _with_db(url: str, name: str) -> str:
    head, _, _ = url.rpartition("/")
    return f"{head}/{name}"


def admin_engine() -> sa.Engine:
    return sa.create_engine(sa_url(BASE_URL), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)


@contextlib.contextmanager
def scratch_postgres(tag: str) -> Iterator[str]:
    """A freshly created, migrated PostgreSQL database; dropped afterwards, even on failure."""
    name = f"{PREFIX}{tag}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = admin_engine()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = _with_db(BASE_URL, name)
    try:
        store = SqlStore.from_url(sa_url(url))
        upgrade(store.engine)
        store.close()
        yield url
    finally:
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except sa.exc.OperationalError as exc:  # the server went away: keep the first error
            print(f"could not drop database {name}: {exc.orig}", file=sys.stderr)  # noqa: T201
        admin.dispose()


@contextlib.contextmanager
def scratch_sqlite() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="cronbase-bench-") as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        store = SqlStore.from_url(url)
        upgrade(store.engine)
        store.close()
        yield url


# The harness's own connections carry this name, so that the backends it measures are the
# workers' (cpu_window) and never its own polling.
APPLICATION_NAME = "cronbase_bench"


def engine_for(url: str) -> sa.Engine:
    kwargs = {}
    if not url.startswith("sqlite"):
        kwargs["connect_args"] = {"application_name": APPLICATION_NAME}
    return SqlStore.from_url(sa_url(url), **kwargs).engine


# --- cronbase processes --------------------------------------------------------------------


def cronbase_env(url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        CRONBASE_DATABASE_URL=url,
        CRONBASE_JOB_MODULES="noop_jobs",
        # A summary of the runs every 10 s instead of a line per run, as a fleet at rate would
        # log (the peers run with their logging at ERROR).
        CRONBASE_RUN_LOG="summary",
        PYTHONPATH=os.pathsep.join(filter(None, [str(BENCH), env.get("PYTHONPATH")])),
    )
    env.update(extra)
    return env


class Proc:
    """A child process whose output goes to a log file; stopped by its own pid only."""

    def __init__(self, args: list[str], env: dict[str, str], log_dir: Path, name: str) -> None:
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.popen = subprocess.Popen(args, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self.pid = self.popen.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if self.popen.poll() is not None:
                raise RuntimeError(f"process exited early:\n{self.log()[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {text!r} after {timeout}s:\n{self.log()[-3000:]}")
            time.sleep(0.05)

    def stop(self, timeout: float = 20.0) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self._log.close()


def superadmin_token(env: dict[str, str]) -> str:
    """A new superadmin API token, made by `cronbase token create` with `env`."""
    command = [CRONBASE, "token", "create", "--email", "bench@x", "--role", "superadmin"]
    created = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    return created.stdout.strip().splitlines()[-1]


def start_api(
    env: dict[str, str], log_dir: Path, name: str, processes: int = 1
) -> tuple[Proc, str]:
    """An API server without a worker (`uvicorn --factory cronbase.api.app:create_app_from_env`,
    `processes` worker processes, no access log) on a free loopback port, once its /readyz
    answers: (the process, its base URL). The caller stops it."""
    import httpx

    port = free_port()
    command = [
        str(BIN / "uvicorn"),
        "--factory",
        "cronbase.api.app:create_app_from_env",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(processes),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    server = Proc(command, env, log_dir, name)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.popen.poll() is not None:
            raise RuntimeError(f"uvicorn exited:\n{server.log()[-3000:]}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                if processes > 1:  # one process answered: give the others time to come up
                    time.sleep(1.0 + 0.5 * processes)
                return server, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    raise TimeoutError(f"uvicorn not ready:\n{server.log()[-3000:]}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_or_none(pid: int) -> float | None:
    try:
        return cpu_seconds(pid)
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def _backend_pids(engine: sa.Engine) -> list[int]:
    """The PostgreSQL backends serving the database's clients other than the harness (the
    workers' connections), when the server is on this machine; none on SQLite."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as conn:
        pids = conn.exec_driver_sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND backend_type = 'client backend' AND application_name <> %(name)s",
            {"name": APPLICATION_NAME},
        ).scalars()
        return [pid for pid in pids if Path(f"/proc/{pid}").exists()]


class CpuWindow:
    """CPU seconds spent between `start()` and `stop()` by the worker processes and by the
    PostgreSQL backends of their connections (read from /proc; a backend that connects within
    the window counts from zero, one that disconnects within it is lost, which is rare: the
    workers keep their pooled connections). A worker's start-up is outside the window."""

    def __init__(self, engine: sa.Engine, worker_pids: list[int]) -> None:
        self.engine = engine
        self.worker_pids = worker_pids
        self._workers: dict[int, float] = {}
        self._backends: dict[int, float] = {}

    def start(self) -> None:
        self._workers = {pid: cpu_seconds(pid) for pid in self.worker_pids}
        self._backends = {
            pid: cpu for pid in _backend_pids(self.engine) if (cpu := _cpu_or_none(pid)) is not None
        }

    def stop(self) -> tuple[float, float]:
        """(worker CPU seconds, backend CPU seconds) since start()."""
        workers = sum(cpu_seconds(pid) - self._workers[pid] for pid in self.worker_pids)
        backends = 0.0
        for pid in set(_backend_pids(self.engine)) | set(self._backends):
            cpu = _cpu_or_none(pid)
            if cpu is not None:
                backends += cpu - self._backends.get(pid, 0.0)
        if self.engine.dialect.name != "postgresql":
            backends = float("nan")
        return workers, backends


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (resident now) and VmHWM (peak resident), in KiB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- data ----------------------------------------------------------------------------------


def insert_noop_jobs(engine: sa.Engine, count: int, next_run: datetime, *, spread_s: float = 0):
    """Insert `count` active no-op jobs (schedule daily) due at next_run (+ i*spread/count)."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO cron_job (name, schedule, function_name, next_run, created_at)"
                    " SELECT 'noop-' || g, 'daily', 'noop',"
                    " CAST(:t AS timestamptz) + (g - 1) * CAST(:step AS double precision)"
                    "   * interval '1 second',"
                    " now() + g * interval '1 microsecond'"
                    " FROM generate_series(1, :n) g"
                ),
                {"t": next_run, "n": count, "step": spread_s / max(count, 1)},
            )
            conn.exec_driver_sql("ANALYZE cron_job")
        return
    from datetime import timedelta

    rows = [
        {
            "name": f"noop-{i}",
            "schedule": "daily",
            "function_name": "noop",
            "next_run": next_run + timedelta(seconds=i * spread_s / max(count, 1)),
        }
        for i in range(count)
    ]
    with engine.begin() as conn:
        for start in range(0, count, 5000):
            conn.execute(cron_job.insert(), rows[start : start + 5000])


def set_next_run(engine: sa.Engine, start: datetime, spread_s: float = 0) -> None:
    """Make every job due at `start` (spread evenly over `spread_s` seconds, in name order)."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(
                sa.text(
                    "UPDATE cron_job SET next_run = CAST(:t AS timestamptz)"
                    " + (CAST(substr(name, 6) AS int) - 1) * CAST(:step AS double precision)"
                    "   * interval '1 second'"
                ),
                {"t": start, "step": spread_s / max(count_jobs(conn), 1)},
            )
        else:
            conn.execute(cron_job.update().values(next_run=start))


def count_jobs(conn: sa.Connection) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(cron_job)).scalar_one()


def finished_runs(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count())
            .select_from(cron_job_run)
            .where(cron_job_run.c.finished_at.is_not(None))
        ).scalar_one()


def run_timings(engine: sa.Engine) -> list[tuple[datetime, datetime, datetime, Any]]:
    query = sa.select(
        cron_job_run.c.scheduled_for,
        cron_job_run.c.started_at,
        cron_job_run.c.finished_at,
        cron_job_run.c.job_id,
    )
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(query)]


def now() -> datetime:
    return datetime.now(UTC)


# --- statistics ----------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(math.ceil(p / 100 * len(ordered)), 1)
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    values = [v for v in values if v is not None and not math.isnan(v)]
    return statistics.median(values) if values else float("nan")
