"""Claims made ahead of their due instant (see runner/ahead.py). At the instant, one read of the
claims' jobs says which still stand; a claim whose job was paused, edited or deleted since is
withdrawn as if it had never been made, so the change committed before the instant wins."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from cronbase.jobs import Claim, RunStatus, RunTrigger
from cronbase.store import last_outcome, leases, wakeups
from cronbase.store.engine import DEFERRED
from cronbase.store.tables import cron_job, cron_job_run


def takes_slot(claim: Claim) -> bool:
    """Whether the claim took a due job's slot (and moved its next_run on), rather than a
    pending run (whose claim leaves next_run as it was), such as a slot's run given back."""
    return claim.trigger == RunTrigger.SCHEDULE and claim.next_run != claim.job.next_run


class ClaimsAhead:
    """The two statements of claims held ahead, each in a transaction of its own."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    def changed(self, claims: list[Claim]) -> list[Claim]:
        """The claims whose job is gone, paused, or edited since they were made (one read; on
        SQLite it takes no write lock)."""
        ids = sorted({claim.job.id for claim in claims})
        query = sa.select(
            cron_job.c.id, cron_job.c.is_active, cron_job.c.updated_at, cron_job.c.next_run
        ).where(cron_job.c.id.in_(ids))
        with self.engine.connect() as conn:
            if self.dialect == "postgresql":  # one statement: no BEGIN and COMMIT round trips
                conn.execution_options(isolation_level="AUTOCOMMIT")
                rows = {row.id: row for row in conn.execute(query)}
            else:
                conn.execution_options(**{DEFERRED: True})
                with conn.begin():
                    rows = {row.id: row for row in conn.execute(query)}
        return [claim for claim in claims if not _stands(claim, rows.get(claim.job.id))]

    def withdraw(self, claims: list[Claim], worker_id: str, now: datetime) -> None:
        """Undo claims that never started: a slot's run row goes and its job is due at the slot
        again (unless the change moved its next_run), to be claimed as it now is; a retry goes
        back to pending. Only rows this worker still holds are touched."""
        if not claims:
            return
        slots = [claim for claim in claims if takes_slot(claim)]
        others = [claim.run_id for claim in claims if not takes_slot(claim)]
        with self.engine.begin() as conn:
            # The jobs first, in id order, as record_outcomes and a cascading DELETE lock them.
            job_ids = sorted({claim.job.id for claim in slots})
            conn.execute(
                sa.select(cron_job.c.id)
                .where(cron_job.c.id.in_(job_ids))
                .order_by(cron_job.c.id)
                .with_for_update()
            )
            if slots:
                _unclaim_slots(conn, slots, worker_id)
                last_outcome.refresh(conn, job_ids)
            if others:
                leases.release_runs(conn, others, worker_id, now)
            wakeups.notify(conn, self.dialect)


def _stands(claim: Claim, row: Any) -> bool:
    if row is None:  # deleted, and its runs with it
        return False
    if row.updated_at != claim.job.updated_at:  # edited (pausing is an edit too)
        return False
    if takes_slot(claim):
        return bool(row.is_active) and row.next_run == claim.next_run
    return bool(row.is_active) or claim.trigger == RunTrigger.MANUAL


def _unclaim_slots(conn: sa.Connection, claims: list[Claim], worker_id: str) -> None:
    conn.execute(
        cron_job_run.delete().where(
            cron_job_run.c.id.in_([claim.run_id for claim in claims]),
            cron_job_run.c.status == RunStatus.RUNNING.value,
            cron_job_run.c.worker_id == worker_id,
        )
    )
    restores = [
        {"b_id": claim.job.id, "b_due": claim.job.next_run, "b_claimed": claim.next_run}
        for claim in claims
        if claim.next_run is not None
    ]
    if restores:
        conn.execute(
            cron_job.update()
            .where(
                cron_job.c.id == sa.bindparam("b_id"),
                cron_job.c.next_run == sa.bindparam("b_claimed"),
            )
            .values(next_run=sa.bindparam("b_due")),
            restores,
        )
