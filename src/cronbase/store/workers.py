"""The worker registry: who is running jobs, and since when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from cronbase.store.engine import dialect_insert
from cronbase.store.tables import cron_worker


@dataclass(frozen=True)
class WorkerInfo:
    id: str
    host: str
    pid: int
    started_at: datetime
    last_heartbeat: datetime
    stopped_at: datetime | None


class WorkerStore:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def register(self, worker_id: str, host: str, pid: int, now: datetime) -> None:
        values = {
            "id": worker_id,
            "host": host,
            "pid": pid,
            "started_at": now,
            "last_heartbeat": now,
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
        """Workers that have not stopped and heartbeated within `stale_after`."""
        query = (
            sa.select(cron_worker)
            .where(
                cron_worker.c.stopped_at.is_(None),
                cron_worker.c.last_heartbeat >= now - stale_after,
            )
            .order_by(cron_worker.c.started_at)
        )
        with self.engine.begin() as conn:
            return [WorkerInfo(**row._mapping) for row in conn.execute(query)]
