"""Smoke test of bench/retention.py at a tiny size: the load, the plans it prints, and the
background pruner it measures, so a change that breaks the measurement shows up here. No
timings are asserted (the bursts, which need worker processes, are left to the bench)."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path[:0] = [str(BENCH)]

import harness
import retention as bench


@pytest.mark.postgres
@pytest.mark.usefixtures("postgres_admin_url")  # skips without a reachable server
def test_the_retention_bench_loads_plans_and_prunes_half() -> None:
    bench.report.clear()
    with harness.scratch_postgres("retention_smoke") as url:
        engine = harness.engine_for(url)
        bench.load(engine, jobs=10, runs=1000)
        cutoff = harness.now() - timedelta(days=bench.RETENTION_DAYS)
        assert bench.count_runs(engine) == 1000
        old = bench.count_runs(engine, cutoff)
        assert 500 <= old <= 510  # half, give or take the slots at the cutoff's instant
        bench.history_page(engine, "smoke")
        bench.batch_plan(engine)
        assert bench.count_runs(engine) == 1000  # the planned batch was rolled back
        pruner = bench.BackgroundPruner(url)
        pruner.run()
        pruner.store.close()
        assert pruner.deleted == old
        assert bench.count_runs(engine, cutoff) == 0
        engine.dispose()
    text = "\n".join(bench.report)
    assert "Index Scan Backward using ix_cron_job_run_slots" in text
    assert "ix_cron_job_run_age" in text
