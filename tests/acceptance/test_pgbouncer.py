"""Through PgBouncer in transaction mode (CRONBASE_PGBOUNCER=1): a worker runs jobs, polling,
with no statement prepared on the server. Needs the pgbouncer program (Debian's package)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from cronbase.bootstrap import build
from cronbase.clock import SystemClock
from cronbase.config import Settings
from cronbase.manager import SYSTEM
from cronbase.registry import JobContext, JobRegistry
from tests.helpers import create_job, recording_registry, run_history, wait_until

pytestmark = pytest.mark.postgres

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
RUNS = 12  # more than psycopg's prepare_threshold (5) executions of each statement


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def pgbouncer(postgres_url: str) -> Iterator[str]:
    """A PgBouncer in transaction mode in front of the test's database; its URL."""
    if not os.path.exists(PGBOUNCER):
        if os.environ.get("CRONBASE_REQUIRE_POSTGRES"):
            pytest.fail("pgbouncer is not installed (apt-get install pgbouncer)")
        pytest.skip("pgbouncer is not installed")
    server = sa.make_url(postgres_url)
    port = _free_port()
    folder = Path(tempfile.mkdtemp(prefix="cronbase-pgbouncer-"))
    (folder / "users.txt").write_text(f'"{server.username}" ""\n')
    (folder / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={server.host} port={server.port or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {folder / 'users.txt'}\n"
        "pool_mode = transaction\ndefault_pool_size = 1\n"
    )
    os.chmod(folder, 0o755)
    # PgBouncer will not run as root: it switches to the postgres user (-u) when started so.
    user = ["-u", "postgres"] if os.geteuid() == 0 else []
    process = subprocess.Popen(
        [PGBOUNCER, *user, str(folder / "pgbouncer.ini")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    url = server.set(port=port).render_as_string(hide_password=False)
    try:
        wait_until(lambda: _answers(url), what="pgbouncer to accept connections", timeout=20)
        yield url
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def _answers(url: str) -> bool:
    try:
        psycopg.connect(url.replace("+psycopg", ""), connect_timeout=2).close()
    except psycopg.OperationalError:
        return False
    return True


@pytest.fixture
def calls() -> list[JobContext]:
    return []


@pytest.fixture
def registry(calls: list[JobContext]) -> JobRegistry:
    return recording_registry(calls)


def test_workers_behind_pgbouncer_in_transaction_mode_run_jobs(
    pgbouncer: str, registry: JobRegistry, calls: list[JobContext], caplog: pytest.LogCaptureFixture
) -> None:
    # Two processes' worth of connections share PgBouncer's one server connection, so any
    # statement one prepared would clash with the other's ("_pg3_0" already exists).
    settings = Settings(database_url=pgbouncer, pgbouncer=True, worker_max_sleep_seconds=0.2)
    services = [build(settings, registry=registry, clock=SystemClock()) for _ in range(2)]
    workers = [each.new_worker() for each in services]
    assert [worker.listener for worker in workers] == [None, None]  # they poll: see README
    for worker in workers:
        worker.start()
    manager, store = services[0].manager, services[0].store
    try:
        job = create_job(manager, "record", schedule="on_demand")
        for count in range(1, RUNS + 1):
            manager.run_now(job.id, SYSTEM)
            wait_until(
                lambda c=count: len(calls) >= c,
                what=f"run {count} through pgbouncer",
                timeout=30,
                state=lambda: [run.status for run in run_history(store)],
            )
    finally:
        for worker in workers:
            worker.stop.set()
            worker.join(30)
    assert [run.status for run in run_history(store)] == ["succeeded"] * RUNS
    assert "prepared statement" not in caplog.text
    for each in services:
        each.store.close()
