"""Smoke test of the benchmark harness (bench/): its statistics and table, and the built-in job
scenarios at tiny sizes, so a schema or CLI change that breaks `make bench` shows up here. No
timings are asserted; the bench itself runs only through `make bench`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path[:0] = [str(BENCH), str(BENCH / "peers")]

import harness
import peer_stats
import run
import scenarios


def test_percentile_is_nearest_rank_and_median_skips_missing_figures() -> None:
    values = [float(v) for v in range(1, 101)]
    assert [harness.percentile(values, p) for p in (50, 99, 100)] == [50.0, 99.0, 100.0]
    assert harness.median([3.0, float("nan"), 1.0, 2.0]) == 2.0


def test_peer_lag_is_measured_from_each_jobs_own_due_instant() -> None:
    starts = {i: 1000.0 + i * 0.5 + 0.1 for i in range(100)}  # job i due at 1000 + i * 0.5
    result = peer_stats.summary(1000.0, 0.5, starts, starts, 0.0)
    assert result["lag_p50"] == pytest.approx(0.1)
    assert result["lag_max"] == pytest.approx(0.1)
    assert result["wall_s"] == pytest.approx(49.6)
    assert peer_stats._nearest_rank(sorted(starts.values()), 99) == harness.percentile(
        list(starts.values()), 99
    )


def test_every_size_knob_has_a_quick_and_a_full_value() -> None:
    assert all(len(pair) == 2 for pair in run.SIZES.values())


def test_the_table_puts_each_peer_beside_cronbase() -> None:
    key = ("2 Spread", "10 jobs", "start lag p50 / p99 / max (s)")
    text = run.table([(*key, "0.1 / 0.2 / 0.3")], {key: {run.PEERS[1]: 1234.5}})
    assert text.splitlines()[-1] == (
        "| 2 Spread | 10 jobs | start lag p50 / p99 / max (s) | 0.1 / 0.2 / 0.3 |  | 1,234 |"
    )


@pytest.mark.postgres
@pytest.mark.usefixtures("postgres_admin_url")  # skips without a reachable server
def test_the_built_in_job_scenarios_run_and_check_the_work(tmp_path: Path) -> None:
    rows = [
        *scenarios.scenario_mark_offline(100, 1, tmp_path),
        *scenarios.scenario_clean_activities(100, 1, tmp_path),
        *scenarios.scenario_sync_fields(20, 200, 1, tmp_path),
    ]
    assert [row[0] for row in rows] == [
        *["6 markUsersOffline"] * 3,
        *["6 cleanOldActivities"] * 3,
        *["6 syncDenormalizedFields"] * 3,
    ]
    assert "(20 marked offline)" in rows[1][2]
    assert "(1 batches)" in rows[4][2]


@pytest.mark.postgres
@pytest.mark.usefixtures("postgres_admin_url")  # skips without a reachable server
def test_a_burst_counts_cpu_from_the_due_instant_in_workers_and_their_backends(
    tmp_path: Path,
) -> None:
    with harness.scratch_postgres("smoke") as url:
        engine = harness.engine_for(url)
        harness.insert_noop_jobs(engine, 20, harness.now() + scenarios.timedelta(days=1))
        result = scenarios.burst_once(url, engine, 20, 1, tmp_path)
        engine.dispose()
    # Start-up is outside the window: the whole process cost more than the burst did.
    assert 0 <= result["burst_cpu_ms_per_run"] < result["cpu_ms_per_job"]
    assert result["pg_cpu_ms_per_run"] >= 0
    rows = scenarios.burst_rows("1 Burst", "20 jobs", [result])
    assert [row[2] for row in rows[-3:]] == [
        "worker CPU per run, burst window (ms)",
        "PostgreSQL backend CPU per run, burst window (ms)",
        "worker CPU per run, whole process (ms)",
    ]


@pytest.mark.postgres
@pytest.mark.usefixtures("postgres_admin_url")
def test_growth_reports_each_sizes_cpu_per_run_and_a_workers_peak_memory(tmp_path: Path) -> None:
    rows = scenarios.scenario_growth([20], 1, tmp_path)
    assert [row[2] for row in rows] == [
        "wall time (s) / per 1,000 jobs (s)",
        "worker / PostgreSQL CPU per run, burst window (ms)",
        "peak RSS of a worker, highest of the repeats (MiB)",
    ]
    assert 10 < rows[2][3] < 1024  # MiB: the VmHWM of a worker process


@pytest.mark.postgres
@pytest.mark.usefixtures("postgres_admin_url")
def test_the_cpu_window_counts_the_clients_backends_and_not_the_harness() -> None:
    import psycopg

    with harness.scratch_postgres("window") as url:
        engine = harness.engine_for(url)
        with psycopg.connect(url) as client:
            client_pid = client.execute("SELECT pg_backend_pid()").fetchone()[0]
            window = harness.CpuWindow(engine, [])
            window.start()
            client.execute("SELECT count(*) FROM generate_series(1, 2000000)").fetchone()
            with engine.connect() as conn:
                own = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
                pids = harness._backend_pids(engine)
            _, backend_cpu = window.stop()
        engine.dispose()
    assert client_pid in pids
    assert own not in pids
    assert backend_cpu > 0  # the client's query ran inside the window
