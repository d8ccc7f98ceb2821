"""Burst (or Spread) on APScheduler 3.11: n no-op jobs in a SQLAlchemyJobStore on PostgreSQL,
all due at one instant (or evenly spaced over SPREAD seconds from it), misfire_grace_time=None,
run by one BackgroundScheduler (10 threads).

Usage: python apscheduler_burst.py DATABASE_URL N LEAD_SECONDS [SPREAD_SECONDS]
  -> prints one JSON line.
"""

from __future__ import annotations

import json
import pickle
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
from peer_stats import CpuAtDue, summary


def main() -> None:
    url, n, lead = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    spread = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    step = spread / n
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
    at_due = CpuAtDue(due.timestamp())
    rows = []
    for i in range(n):
        at = due + timedelta(seconds=i * step)
        job = Job(
            scheduler,
            id=f"noop-{i}",
            func="ap_noop:noop",
            args=(i,),
            kwargs={},
            name=f"noop-{i}",
            trigger=IntervalTrigger(days=1, timezone=UTC),
            executor="default",
            misfire_grace_time=None,
            coalesce=True,
            max_instances=1,
            next_run_time=at,
        )
        rows.append(
            {
                "id": job.id,
                "next_run_time": datetime_to_utc_timestamp(at),
                "job_state": pickle.dumps(job.__getstate__(), store.pickle_protocol),
            }
        )
    with store.engine.begin() as conn:
        conn.execute(store.jobs_t.insert(), rows)
    scheduler.start()
    ready_late = time.time() - due.timestamp()
    deadline = time.time() + lead + spread + max(120, n / 20)
    while len(ap_noop.FINISHES) < n and time.time() < deadline:
        time.sleep(0.05)
    at_due.stop()
    scheduler.shutdown(wait=False)
    if len(ap_noop.FINISHES) < n:
        raise SystemExit(f"only {len(ap_noop.FINISHES)} of {n} ran")
    result = summary(due.timestamp(), step, ap_noop.STARTS, ap_noop.FINISHES, ready_late, at_due)
    print(json.dumps(result))  # noqa: T201 - the bench reads this line


if __name__ == "__main__":
    main()
