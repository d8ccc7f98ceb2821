"""The worker registry: who is running jobs, and since when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from cronbase.store.engine import dialect_insert
from cronbase.store.rows import RUNNING
from cronbase.store.tables import cron_job_run, cron_worker


@dataclass(frozen=True)
class WorkerInfo:
    id: str
    host: str
    pid: int
    started_at: datetime
    last_heartbeat: datetime
    stopped_at: datetime | None
    threads: int | None = None  # how many runs it may run at once; None: not reported
    running: int = 0  # the runs it holds (started, or claimed and about to start)

    @property
    def free_slots(self) -> int | None:
        """How many more runs it could start now; None when it did not say its threads."""
        return None if self.threads is None else max(self.threads - self.running, 0)


class WorkerStore:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def register(
        self, worker_id: str, host: str, pid: int, now: datetime, *, threads: int | None = None
    ) -> None:
        values = {
            "id": worker_id,
            "host": host,
            "pid": pid,
            "started_at": now,
            "last_heartbeat": now,
            "threads": threads,
        }
        # Idempotent: a retry after a commit whose acknowledgement was lost must not fail.
        insert = dialect_insert(self.engine.dialect.name)(cron_worker)
        with self.engine.begin() as conn:
            conn.execute(insert.values(values).on_conflict_do_nothing())

    def heartbeat(self, worker_id: str, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                cron_worker.update().where(cron_worker.c.id == worker_id).values(last_heartbeat=now)
            )

    def stopped(self, worker_id: str, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                cron_worker.update().where(cron_worker.c.id == worker_id).values(stopped_at=now)
            )

    def live(self, now: datetime, stale_after: timedelta) -> list[WorkerInfo]:
        """Workers that have not stopped and heartbeated within `stale_after`, each with the
        runs it holds (counted from the few running rows, ix_cron_job_run_running)."""
        runs = cron_job_run.c
        held = (
            sa.select(runs.worker_id, sa.func.count().label("running"))
            .where(RUNNING)
            .group_by(runs.worker_id)
            .subquery()
        )
        query = (
            sa.select(cron_worker, sa.func.coalesce(held.c.running, 0).label("running"))
            .outerjoin(held, held.c.worker_id == cron_worker.c.id)
            .where(
                cron_worker.c.stopped_at.is_(None),
                cron_worker.c.last_heartbeat >= now - stale_after,
            )
            .order_by(cron_worker.c.started_at)
        )
        with self.engine.begin() as conn:
            return [WorkerInfo(**row._mapping) for row in conn.execute(query)]
