"""Claiming: due jobs (their slot gets a running run row and their next_run moves on) and
pending runs (retries, manual runs), in one transaction per batch.

Claims take row locks with FOR UPDATE SKIP LOCKED on PostgreSQL; on SQLite the clause renders
as nothing and BEGIN IMMEDIATE (see engine.py) serializes claimants instead. Either way the
unique (job_id, scheduled_for, attempt) index is the last word on "exactly once".

Given the worker's TenantShares, a claim passes over the runs of tenants at their cap (see
fair_share.py): the query leaves out the tenants already full, and of the rows it reads, a
tenant that fills up within the batch keeps only its room. The rows passed over stay due; the
worker claims again at once, leaving that tenant out. Leaving tenants out costs a walk past
their due rows in the claim index: at most CRONBASE_MAX_JOBS_PER_TENANT rows each.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from cronbase.fair_share import TenantShares
from cronbase.jobs import (
    Claim,
    Job,
    OverlapPolicy,
    RunStatus,
    RunTrigger,
    SlotPlan,
)
from cronbase.notify.events import missed_event
from cronbase.overlap import SKIPPED_FOR_OVERLAP, split_by_overlap
from cronbase.store import claim_queries, last_outcome, pg_batches
from cronbase.store.alerts import open_episodes
from cronbase.store.ids import time_ordered_uuid
from cronbase.store.leases import hold_runs
from cronbase.store.notifications import add_events
from cronbase.store.rows import (
    history_row,
    job_from_leading,
    known,
    missed_row,
    run_insert,
    run_row,
    running_jobs,
)
from cronbase.store.tables import cron_job, cron_job_run

# Given a due job and "now": which slot runs, which are missed, and the next next_run.
PlanSlots = Callable[[Job, datetime], SlotPlan]


def claim_due(
    conn: sa.Connection,
    dialect: str,
    now: datetime,
    worker_id: str,
    plan: PlanSlots,
    limit: int,
    lease_until: datetime,
    quiet: timedelta,
    shares: TenantShares | None = None,
    started: datetime | None = None,
) -> tuple[list[Claim], int]:
    """Pending runs first, then due jobs, then backfill runs, up to `limit` claims (see
    Store.claim_due). `now` selects what is due; `started` (default `now`) is when the claimed
    runs start at the earliest, their jobs' last_run until they end: when a worker claims ahead,
    `now` is ahead of it, and a last_run later than the run's start would keep its ending from
    being the job's last status (last_outcome.note_ended)."""
    started = started or now
    claims, seen = _claim_pending_and_due(
        conn, dialect, now, worker_id, plan, limit, lease_until, quiet, shares, started
    )
    if len(claims) < limit:  # backfills yield: they take only the room the due slots left
        backfill = claim_pending(
            conn,
            now,
            worker_id,
            lease_until,
            limit - len(claims),
            shares,
            backfill=True,
            started=started,
        )
        claims, seen = claims + backfill, seen + len(backfill)
    return claims, seen


def _claim_pending_and_due(
    conn: sa.Connection,
    dialect: str,
    now: datetime,
    worker_id: str,
    plan: PlanSlots,
    limit: int,
    lease_until: datetime,
    quiet: timedelta,
    shares: TenantShares | None,
    started: datetime,
) -> tuple[list[Claim], int]:
    queued = claim_pending(conn, now, worker_id, lease_until, limit, shares, started=started)
    if len(queued) >= limit:
        return queued, len(queued)
    jobs = _take_due_jobs(conn, now, limit - len(queued), shares)
    if not jobs:
        return queued, len(queued)
    plans = {job.id: plan(job, now) for job in jobs}
    to_run, skipped = split_by_overlap(jobs, plans, running_jobs(conn, [job.id for job in jobs]))
    run_ids = _insert_runs(conn, dialect, to_run, plans, now, worker_id, lease_until)
    _insert_history(conn, dialect, jobs, plans, skipped, now, quiet)
    _move_on(conn, jobs, plans, set(run_ids), started)
    claims = [
        Claim(
            run_ids[job.id],
            job,
            plans[job.id].run_slot or now,
            plans[job.id].next_run,
            plans[job.id].error,
        )
        for job in to_run
        if job.id in run_ids  # else the slot had a run row already
    ]
    return queued + claims, len(queued) + len(jobs)


def _take_due_jobs(
    conn: sa.Connection, now: datetime, limit: int, shares: TenantShares | None
) -> list[Job]:
    """Up to `limit` due jobs, locked, within the tenants' shares."""
    full = shares.full() if shares is not None else None
    rows = conn.execute(
        claim_queries.claimable(bool(full), conn.dialect.name),
        claim_queries.params(now, limit, full),
    )
    jobs = [job_from_leading(row) for row in rows]
    if shares is None:
        return jobs
    return shares.take(jobs, lambda job: job.tenant_id, limit)


def claim_pending(
    conn: sa.Connection,
    now: datetime,
    worker_id: str,
    lease_until: datetime,
    limit: int,
    shares: TenantShares | None = None,
    *,
    backfill: bool = False,
    started: datetime | None = None,
) -> list[Claim]:
    """Claim pending runs (retries, manual runs, dependents' runs; with `backfill`, backfill
    runs only) whose time has come, one per job unless the job allows overlap, none of a job
    whose previous run is still going, and none past its tenant's share. The runs passed over
    stay pending for a later claim."""
    full = shares.full() if shares is not None else None
    query = claim_queries.select_pending(bool(full), backfill)
    params = {
        **claim_queries.params(now, limit, full),
        "b_now": now,
    }  # run_after: the instant itself
    rows = conn.execute(query, params).all()
    claims = _one_per_job(conn, rows)
    if shares is not None:
        claims = shares.take(claims, lambda claim: claim.job.tenant_id, limit)
    if claims:
        hold_runs(conn, [claim.run_id for claim in claims], worker_id, now, lease_until)
        last_outcome.note_started(conn, {claim.job.id for claim in claims}, started or now)
    return claims


def _one_per_job(conn: sa.Connection, rows: list[sa.Row[Any]]) -> list[Claim]:
    """The claims of pending `rows`: one per job unless the job allows overlap, and none of
    a job whose previous run is going on."""
    # The NOT EXISTS of the query saw the runs committed when the statement began; a run
    # another worker committed since (before we locked the job) shows in a fresh look.
    busy = running_jobs(conn, list({row.id for row in rows})) if rows else set()
    claims, seen = [], set()
    for row in rows:
        job = job_from_leading(row)
        if job.overlap_policy != OverlapPolicy.ALLOW and (job.id in seen or job.id in busy):
            continue
        trigger = known(RunTrigger, row.run_trigger)
        if not isinstance(trigger, RunTrigger):  # a newer worker's: left alone (see known)
            continue
        seen.add(job.id)
        claims.append(
            Claim(
                row.run_id,
                job,
                row.run_slot,
                job.next_run,
                None,
                row.run_attempt,
                trigger,
                row.run_trigger_key,
                tuple(row.run_triggered_by or ()),
            )
        )
    return claims


def _insert_runs(
    conn: sa.Connection,
    dialect: str,
    jobs: list[Job],
    plans: dict[UUID, SlotPlan],
    now: datetime,
    worker_id: str,
    lease_until: datetime,
) -> dict[UUID, UUID]:
    """Insert the running rows of the slots that run; return {job id: run id} for the slots
    that had no row yet."""
    if not jobs:
        return {}
    if dialect == "postgresql":
        # Ids in time order: see store/ids.py.
        runs = [
            (time_ordered_uuid(), job.id, job.tenant_id, plans[job.id].run_slot) for job in jobs
        ]
        return pg_batches.insert_running(conn, runs, now, worker_id, lease_until)  # type: ignore[arg-type]
    rows = [
        run_row(
            job,
            plans[job.id].run_slot,
            RunStatus.RUNNING,
            trigger=RunTrigger.SCHEDULE.value,
            started_at=now,
            worker_id=worker_id,
            lease_until=lease_until,
        )
        for job in jobs
    ]
    insert = run_insert(dialect).returning(cron_job_run.c.job_id, cron_job_run.c.id)
    return {job_id: run_id for job_id, run_id in conn.execute(insert, rows)}  # noqa: C416


def _insert_history(
    conn: sa.Connection,
    dialect: str,
    jobs: list[Job],
    plans: dict[UUID, SlotPlan],
    skipped: list[Job],
    now: datetime,
    quiet: timedelta,
) -> None:
    """Rows for slots that do not run: missed ones (each with its run.missed alert, in this
    transaction), and ones skipped for overlap."""
    missed = {job.id: (job, plans[job.id].missed) for job in jobs if plans[job.id].missed}
    if missed:
        rows = [missed_row(job, m, now) for job, m in missed.values() if m is not None]
        insert = run_insert(dialect).returning(cron_job_run.c.job_id, cron_job_run.c.id)
        # A slot that had a row already (another worker's) returns nothing: one alert each.
        inserted = conn.execute(insert, rows).all()
        events = [missed_event(missed[j][0], run_id, missed[j][1], now) for j, run_id in inserted]  # type: ignore[arg-type]
        open_episodes(conn, {job_id: now for job_id, _ in inserted})
        add_events(conn, dialect, events, quiet)
    rows = []
    for job in skipped:
        slot = plans[job.id].run_slot
        assert slot is not None  # split_by_overlap skips only slots that would run
        rows.append(history_row(job, slot, now, RunStatus.SKIPPED, SKIPPED_FOR_OVERLAP))
    if rows:
        conn.execute(run_insert(dialect), rows)


def _move_on(
    conn: sa.Connection,
    jobs: list[Job],
    plans: dict[UUID, SlotPlan],
    ran: set[UUID],
    now: datetime,
) -> None:
    """Set each claimed job's next_run from its plan; a job a slot of which runs now has its
    last run start now (see last_outcome.py), one that runs none counts the slots it missed
    (one statement, executed for many; on PostgreSQL one for all)."""
    moved = [_moved_on(job, plans[job.id], job.id in ran, now) for job in jobs]
    if conn.dialect.name == "postgresql":
        pg_batches.move_on(conn, moved)
        return
    conn.execute(
        cron_job.update()
        .where(cron_job.c.id == sa.bindparam("b_id"))
        .values(
            next_run=sa.bindparam("b_next"),
            last_run=sa.bindparam("b_last"),
            last_status=sa.bindparam("b_status"),
            missed_since_last_run=sa.bindparam("b_missed"),
        ),
        moved,
    )


def _moved_on(job: Job, plan: SlotPlan, ran: bool, now: datetime) -> dict[str, Any]:
    if ran:  # the slots this plan missed came before the run: none is missed since
        return {
            "b_id": job.id,
            "b_next": plan.next_run,
            "b_last": now,
            "b_status": RunStatus.RUNNING.value,
            "b_missed": 0,
        }
    missed = plan.missed.count if plan.missed else 0
    return {
        "b_id": job.id,
        "b_next": plan.next_run,
        "b_last": job.last_run,
        "b_status": job.last_status,
        "b_missed": job.missed_since_last_run + missed,
    }
