"""Burst on APScheduler 3.11: n no-op jobs in a SQLAlchemyJobStore on PostgreSQL, all due at
one instant, misfire_grace_time=None, run by one BackgroundScheduler (10 threads).

Usage: python apscheduler_burst.py DATABASE_URL N LEAD_SECONDS  -> prints one JSON line.
"""

from __future__ import annotations

import json
import pickle
import resource
import sys
import time
from datetime import UTC, datetime, timedelta

import ap_noop
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler.util import datetime_to_utc_timestamp


def main() -> None:
    url, n, lead = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=url)},
        executors={"default": ThreadPoolExecutor(10)},
        job_defaults={"misfire_grace_time": None, "coalesce": True},
        timezone=UTC,
    )
    store = scheduler._jobstores["default"]
    store.start(scheduler, "default")  # creates apscheduler_jobs
    # Bulk-load the jobs exactly as add_job would store them (one pickled state per row), in one
    # transaction: adding 10,000 through add_job takes one transaction each, which is setup cost.
    due = datetime.now(UTC) + timedelta(seconds=lead)
    rows = []
    for i in range(n):
        job = Job(
            scheduler, id=f"noop-{i}", func="ap_noop:noop", args=(), kwargs={}, name=f"noop-{i}",
            trigger=IntervalTrigger(days=1, timezone=UTC), executor="default",
            misfire_grace_time=None, coalesce=True, max_instances=1, next_run_time=due,
        )
        rows.append({"id": job.id, "next_run_time": datetime_to_utc_timestamp(due),
                     "job_state": pickle.dumps(job.__getstate__(), store.pickle_protocol)})
    with store.engine.begin() as conn:
        conn.execute(store.jobs_t.insert(), rows)
    scheduler.start()
    ready_late = time.time() - due.timestamp()
    deadline = time.time() + lead + max(120, n / 20)
    while len(ap_noop.FINISHES) < n and time.time() < deadline:
        time.sleep(0.05)
    scheduler.shutdown(wait=False)
    if len(ap_noop.FINISHES) < n:
        raise SystemExit(f"only {len(ap_noop.FINISHES)} of {n} ran")
    lags = sorted(t - due.timestamp() for t in ap_noop.STARTS)
    wall = max(ap_noop.FINISHES) - due.timestamp()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({
        "wall_s": wall, "per_s": n / wall, "lag_p50": lags[len(lags) // 2],
        "lag_p99": lags[max(int(len(lags) * 0.99 + 0.999999) - 1, 0)], "lag_max": lags[-1],
        "rss_mib": usage.ru_maxrss / 1024,
        "cpu_ms_per_job": (usage.ru_utime + usage.ru_stime) * 1000 / n,
        "ready_late_s": ready_late,
    }))


if __name__ == "__main__":
    main()
