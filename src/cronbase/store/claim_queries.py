"""The claim's SELECTs (claims.py runs them): due jobs, and pending runs with their jobs, each
locked FOR UPDATE SKIP LOCKED and in the order they are taken.

They are built once, with their values as parameters: building and keying a Select anew for
each claim cost more than running it where claims are small.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from cronbase.jobs import MisfirePolicy, OverlapPolicy, RunStatus, RunTrigger
from cronbase.store.rows import PENDING, due_by
from cronbase.store.tables import cron_job, cron_job_run
from cronbase.store.types import UTCDateTime, timestamp_key, to_millisecond

_NOW = sa.bindparam("b_now", type_=UTCDateTime())
_LIMIT = sa.bindparam("b_limit", type_=sa.Integer())
_FULL = sa.bindparam("b_full", type_=sa.Uuid(), expanding=True)


def params(now: datetime, limit: int, full: list[UUID] | None) -> dict[str, Any]:
    """The values of a claim's statement."""
    values: dict[str, Any] = {"b_now": to_millisecond(now), "b_limit": limit}
    if full:
        values["b_full"] = full
    return values


def select_claimable(
    now: datetime, limit: int, full: list[UUID] | None = None, dialect: str = "postgresql"
) -> sa.Select[Any]:
    """Due jobs, highest priority first, then the longest overdue, locked; not those another
    worker holds, nor a queue or catch_up job whose previous run still goes on, nor those of
    the tenants `full`."""
    return claimable(bool(full), dialect).params(params(now, limit, full))


@functools.cache
def claimable(leaving_out: bool, dialect: str) -> sa.Select[Any]:
    running = sa.exists().where(
        cron_job_run.c.job_id == cron_job.c.id,
        cron_job_run.c.status == RunStatus.RUNNING.value,
    )
    waits_for_previous = sa.or_(
        cron_job.c.overlap_policy == OverlapPolicy.QUEUE.value,
        cron_job.c.misfire_policy == MisfirePolicy.CATCH_UP.value,
    )
    # On PostgreSQL the instant and the limit are subqueries' (InitPlans), values the planner
    # does not see: it then walks ix_cron_job_claim in the claim's order and stops at the
    # limit, whatever the statistics say. Given them, it estimated from the statistics how
    # many jobs were due, and where those were older than the burst (jobs made due since
    # the last ANALYZE) it took few to be due and read every due job through ix_cron_job_due
    # to sort them, for each claim: 33 ms a claim of 250 at 10,000 due jobs instead of
    # 0.2 ms, a third of the backend's CPU per run in a burst. Where few are due, the walk
    # ends as soon (0.03-0.1 ms at 100,000 jobs).
    instant, limit = (
        (_hidden(_NOW, UTCDateTime()), _hidden(_LIMIT, sa.Integer()))
        if dialect == "postgresql"
        else (_NOW, _LIMIT)
    )
    return (
        sa.select(cron_job)
        .where(
            due_by(timestamp_key(instant)),
            sa.not_(sa.and_(waits_for_previous, running)),
            *_leaving_out(leaving_out),
        )
        .order_by(cron_job.c.priority.desc(), timestamp_key(cron_job.c.next_run))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


def _hidden(value: sa.BindParameter[Any], type_: Any) -> Any:
    """`value` as a subquery's: a parameter whose value PostgreSQL plans without."""
    return sa.select(sa.cast(value, type_)).scalar_subquery()


def _leaving_out(leaving_out: bool) -> list[sa.ColumnElement[bool]]:
    """The condition leaving out the rows of the tenants at their cap (b_full), if any."""
    if not leaving_out:
        return []
    return [sa.or_(cron_job.c.tenant_id.is_(None), cron_job.c.tenant_id.not_in(_FULL))]


@functools.cache
def select_pending(leaving_out: bool, backfill: bool) -> sa.Select[Any]:
    other = cron_job_run.alias("other")
    running = sa.exists().where(
        other.c.job_id == cron_job_run.c.job_id,
        sa.text("other.status = 'running'"),  # a literal, to match ix_cron_job_run_running
    )
    return (
        sa.select(
            cron_job,
            cron_job_run.c.id.label("run_id"),
            cron_job_run.c.scheduled_for.label("run_slot"),
            cron_job_run.c.attempt.label("run_attempt"),
            cron_job_run.c.trigger.label("run_trigger"),
            cron_job_run.c.trigger_key.label("run_trigger_key"),
            cron_job_run.c.triggered_by.label("run_triggered_by"),
        )
        .join(cron_job, cron_job.c.id == cron_job_run.c.job_id)
        .where(
            PENDING,
            cron_job_run.c.run_after <= _NOW,
            # A paused job's retries wait for it to resume; a manual run is what was asked.
            sa.or_(cron_job.c.is_active, cron_job_run.c.trigger == RunTrigger.MANUAL.value),
            sa.or_(cron_job.c.overlap_policy == OverlapPolicy.ALLOW.value, sa.not_(running)),
            *_leaving_out(leaving_out),
            (cron_job_run.c.trigger == RunTrigger.BACKFILL.value)
            if backfill
            else (cron_job_run.c.trigger != RunTrigger.BACKFILL.value),
        )
        .order_by(
            cron_job.c.priority.desc(), cron_job_run.c.run_after, cron_job_run.c.scheduled_for
        )
        .limit(_LIMIT)
        # The job's row too: a worker claiming the job's next slot skips it meanwhile.
        .with_for_update(of=[cron_job_run, cron_job], skip_locked=True)
    )
