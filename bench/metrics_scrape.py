"""The cost of a /metrics scrape against a large run history, on the local PostgreSQL.

Usage: .venv/bin/python bench/metrics_scrape.py [--runs 1000000] [--jobs 10000] [--scrapes 7]

It loads `runs` succeeded runs of `jobs` jobs into a scratch database (as bench/retention.py
does), then times whole scrapes: every family /metrics serves, rendered in Prometheus's text
format, the database gauges read afresh each time. It prints the median and the slowest.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cryptography.fernet import Fernet
from harness import engine_for, median, sa_url, scratch_postgres
from prometheus_client import generate_latest
from retention import load, say

from cronbase.api.metrics import metrics_registry
from cronbase.bootstrap import build
from cronbase.config import Settings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--scrapes", type=int, default=7)
    args = parser.parse_args()
    with scratch_postgres("metrics") as url:
        engine = engine_for(url)
        load(engine, args.jobs, args.runs)
        with engine.begin() as conn:
            # The bulk load bypasses triggers (session_replication_role): tally its runs as
            # the migration tallies an existing history.
            conn.exec_driver_sql(
                "INSERT INTO cron_run_tally (status, shard, runs) SELECT status, 0, count(*)"
                " FROM cron_job_run GROUP BY status"
            )
        engine.dispose()
        settings = Settings(database_url=sa_url(url), secret_key=Fernet.generate_key().decode())
        services = build(settings, functions=False)
        registry = metrics_registry(services)
        generate_latest(registry)  # warm: connections, plans
        times = []
        for _ in range(args.scrapes):
            started = time.perf_counter()
            body = generate_latest(registry)
            times.append(time.perf_counter() - started)
        services.store.engine.dispose()
    recorded = [line for line in body.decode().splitlines() if "runs_recorded_total{" in line]
    say(
        f"- scrape of /metrics: median {median(times) * 1000:.1f} ms, slowest "
        f"{max(times) * 1000:.1f} ms over {args.scrapes} scrapes"
    )
    say(f"- {'; '.join(recorded)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
