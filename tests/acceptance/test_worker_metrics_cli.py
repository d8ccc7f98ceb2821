"""`cronbase worker --metrics-port N` as an operator runs it: a real process, scraped over HTTP."""

from __future__ import annotations

import signal
import socket
import subprocess
from collections import Counter
from pathlib import Path

import httpx
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from cronbase.store import SqlStore
from cronbase.store.tables import cron_job, cron_job_run
from tests.acceptance.cli import add_job, cli_command, cli_env, free_port
from tests.acceptance.conftest import Cli
from tests.helpers import wait_until


def runs_total(url: str) -> Counter[tuple[str, str, str]]:
    """cronbase_runs_total by (function, status, trigger), parsed by prometheus_client."""
    text = httpx.get(url, timeout=10).raise_for_status().text
    return Counter(
        {
            (s.labels["function"], s.labels["status"], s.labels["trigger"]): int(s.value)
            for family in text_string_to_metric_families(text)
            for s in family.samples
            if s.name == "cronbase_runs_total"
        }
    )


def recorded(store: SqlStore) -> Counter[tuple[str, str, str]]:
    query = (
        sa.select(cron_job.c.function_name, cron_job_run.c.status, cron_job_run.c.trigger)
        .join(cron_job, cron_job.c.id == cron_job_run.c.job_id)
        .where(cron_job_run.c.status.in_(("succeeded", "failed")))
    )
    with store.reading() as conn:
        return Counter(tuple(row) for row in conn.execute(query))


def test_a_worker_serves_counters_that_agree_with_its_runs(
    database_url: str, store: SqlStore, tmp_path: Path
) -> None:
    for number in range(3):
        add_job(store, f"quick {number}")
    add_job(store, "fails", "alwaysFails")
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            cli_command("worker", "--metrics-port", str(port)),
            env=cli_env(database_url),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: sum(recorded(store).values()) == 4, what="4 runs", state=log.read_text)
        wait_until(lambda: runs_total(url).total() == 4, what="4 counted", state=log.read_text)
        assert runs_total(url) == recorded(store)
        assert recorded(store) == {
            ("slowNoop", "succeeded", "schedule"): 3,
            ("alwaysFails", "failed", "schedule"): 1,
        }
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    assert f"serving metrics at {url}" in log.read_text()


def test_a_busy_metrics_port_is_a_clear_error(cli: Cli) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("worker", "--metrics-port", str(port))
    assert result.returncode == 2, result.stderr
    assert f"cannot serve metrics on 127.0.0.1:{port}" in result.stderr
    assert "already in use" in result.stderr
    assert "Traceback" not in result.stderr
