"""Starting dependents: called by record_outcomes with the final runs it records, in the same
transaction, so a dependent's run exists if and only if its upstream's ending does (a worker
killed between the two loses nothing: there is no between).

- wait_for any: each final run of an upstream that meets the edge's `on` queues one pending run
  of the dependent, keyed by the upstream run's id.
- wait_for all: the dependent's row is locked (after the upstream rows record_outcomes locked,
  in id order), then the join for the scheduled time S is evaluated: when every upstream has a
  final run for S that meets its `on`, one run keyed `all:<S>` is queued. Two upstreams recorded
  at the same moment on two workers serialize on that lock, so the second sees the first.
  A join that cannot complete (an upstream's final run for S does not meet its `on`), or that
  is still incomplete once an upstream has a final run for a later slot, gets a `skipped` row
  keyed `all:<S>` saying which upstream did not qualify.

The unique index on (job_id, trigger_key, attempt) makes each of these exactly once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from cronbase.dependency_rules import all_key, any_key, matches
from cronbase.job_fields import DependsOn, WaitFor
from cronbase.jobs import FAILURE_STATUSES, Outcome, RunStatus, RunTrigger, isoformat
from cronbase.store.backfills import include_dependents
from cronbase.store.rows import keyed_run_insert
from cronbase.store.tables import cron_job, cron_job_dependency, cron_job_run
from cronbase.store.wakeups import notify

# The endings that are final runs of a slot (when not retried); missed and skipped rows are not.
ENDED = FAILURE_STATUSES | {RunStatus.SUCCEEDED}
# How far back a join looks for earlier scheduled times to expire.
EXPIRY_LOOKBACK = timedelta(days=7)


@dataclass(frozen=True)
class _Edge:
    job_id: UUID  # the dependent
    upstream_id: UUID
    on: DependsOn
    wait_for: str
    tenant_id: UUID | None


def trigger_dependents(conn: sa.Connection, dialect: str, final: list[Outcome]) -> None:
    """Queue the runs of the dependents of these final runs (see the module's docstring).
    record_outcomes passes only the runs of jobs that others depend on."""
    ended = [o for o in final if o.status in ENDED]
    backfilled = [
        o.claim.trigger_key or "" for o in ended if o.claim.trigger == RunTrigger.BACKFILL
    ]
    if backfilled:  # a backfill replays the dependents only when it was asked to
        replaying = include_dependents(conn, backfilled)
        ended = [
            o
            for o in ended
            if o.claim.trigger != RunTrigger.BACKFILL or o.claim.trigger_key in replaying
        ]
    if not ended:
        return
    edges = _edges_from(conn, {o.claim.job.id for o in ended})
    if not edges:
        return
    rows: list[dict[str, Any]] = []
    joins: dict[UUID, set[datetime]] = defaultdict(set)
    tenants: dict[UUID, UUID | None] = {}
    for outcome in ended:
        for edge in edges.get(outcome.claim.job.id, ()):
            if edge.wait_for == WaitFor.ALL:
                # A join is of scheduled times: a manual run stands for none.
                if outcome.claim.trigger != RunTrigger.MANUAL:
                    joins[edge.job_id].add(outcome.claim.slot)
                    tenants[edge.job_id] = edge.tenant_id
            elif matches(edge.on, outcome.status):
                key = any_key(outcome.claim.run_id)
                rows.append(_pending(edge.job_id, edge.tenant_id, outcome, key, [outcome]))
    if rows:
        conn.execute(keyed_run_insert(dialect), rows)
        notify(conn, dialect)
    if joins:
        now = max(o.finished_at for o in ended)
        _evaluate_joins(conn, dialect, joins, tenants, now)


def _pending(
    job_id: UUID, tenant_id: UUID | None, at: Outcome, key: str, upstream: list[Outcome]
) -> dict[str, Any]:
    return _row(
        job_id,
        tenant_id,
        at.claim.slot,
        key,
        [str(o.claim.run_id) for o in upstream],
        status=RunStatus.PENDING.value,
        run_after=at.finished_at,
    )


def _row(
    job_id: UUID,
    tenant_id: UUID | None,
    slot: datetime,
    key: str,
    triggered_by: list[str],
    **values: Any,
) -> dict[str, Any]:
    # Every row sets the same columns, so one INSERT is executed for all of them.
    return {
        "job_id": job_id,
        "tenant_id": tenant_id,
        "scheduled_for": slot,
        "trigger": RunTrigger.DEPENDENCY.value,
        "trigger_key": key,
        "triggered_by": triggered_by,
        "status": values["status"],
        "run_after": values.get("run_after"),
        "finished_at": values.get("finished_at"),
        "error": values.get("error"),
    }


def _edges_from(conn: sa.Connection, upstream_ids: set[UUID]) -> dict[UUID, list[_Edge]]:
    """The edges out of these upstreams, with their dependents' wait_for, by upstream id."""
    query = (
        sa.select(
            cron_job_dependency.c.job_id,
            cron_job_dependency.c.upstream_id,
            cron_job_dependency.c.on,
            cron_job.c.wait_for,
            cron_job.c.tenant_id,
        )
        .join(cron_job, cron_job.c.id == cron_job_dependency.c.job_id)
        .where(cron_job_dependency.c.upstream_id.in_(sorted(upstream_ids)))
    )
    edges: dict[UUID, list[_Edge]] = defaultdict(list)
    for row in conn.execute(query):
        edges[row.upstream_id].append(
            _Edge(row.job_id, row.upstream_id, DependsOn(row.on), row.wait_for, row.tenant_id)
        )
    return edges


# --- wait_for all ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Final:
    run_id: UUID
    status: str


def _evaluate_joins(
    conn: sa.Connection,
    dialect: str,
    joins: dict[UUID, set[datetime]],
    tenants: dict[UUID, UUID | None],
    now: datetime,
) -> None:
    """Evaluate each dependent's join for the scheduled times its upstreams just ended, and
    expire its older incomplete ones; queue a run or a skipped row for each that is decided."""
    # Locked in id order, after the upstream rows (which record_outcomes locked first).
    locked = conn.execute(
        sa.select(cron_job.c.id, cron_job.c.created_at)
        .where(cron_job.c.id.in_(sorted(joins)))
        .order_by(cron_job.c.id)
        .with_for_update()
    ).all()
    upstreams = _upstreams_of(conn, [row.id for row in locked])
    rows: list[dict[str, Any]] = []
    for job_id, created_at in locked:
        ups = upstreams.get(job_id, {})
        slots = set(joins[job_id])
        latest = max(slots)
        since = max(created_at, latest - EXPIRY_LOOKBACK)
        slots |= _earlier_slots(conn, list(ups), since, latest)
        decided = _decided(conn, job_id, slots)
        for slot in sorted(slots - decided):
            finals = _finals(conn, list(ups), slot)
            row = _decide(job_id, tenants[job_id], slot, ups, finals, slot < latest, now)
            if row is not None:
                rows.append(row)
    if rows:
        conn.execute(keyed_run_insert(dialect), rows)
        notify(conn, dialect)


def _decide(
    job_id: UUID,
    tenant_id: UUID | None,
    slot: datetime,
    ups: dict[UUID, tuple[DependsOn, str]],
    finals: dict[UUID, list[_Final]],
    expired: bool,
    now: datetime,
) -> dict[str, Any] | None:
    """The row that decides the join for `slot` (a pending run, or a skipped row with the
    reason), or None while it may still complete."""
    met: list[str] = []
    missing: list[str] = []
    failed: list[str] = []
    for upstream_id, (on, name) in sorted(ups.items()):
        runs = finals.get(upstream_id, [])
        good = [run for run in runs if matches(on, run.status)]
        if good:
            met.append(str(good[-1].run_id))
        elif runs:
            failed.append(f"{name} ended {runs[-1].status} (it needs {on.value})")
        else:
            missing.append(f"{name} has no final run for it")
    key = all_key(slot)
    if not failed and not missing:
        return _row(job_id, tenant_id, slot, key, met, status="pending", run_after=now)
    if (failed and not missing) or expired:
        reason = "; ".join(failed + missing)
        error = f"waited for all upstreams for {isoformat(slot)}, in vain: {reason}"
        return _row(
            job_id, tenant_id, slot, key, met, status="skipped", finished_at=now, error=error
        )
    return None


def _upstreams_of(
    conn: sa.Connection, job_ids: list[UUID]
) -> dict[UUID, dict[UUID, tuple[DependsOn, str]]]:
    """Each dependent's upstreams: {upstream id: (on, upstream name)}."""
    query = (
        sa.select(cron_job_dependency.c.job_id, cron_job_dependency.c.upstream_id,
                  cron_job_dependency.c.on, cron_job.c.name)
        .join(cron_job, cron_job.c.id == cron_job_dependency.c.upstream_id)
        .where(cron_job_dependency.c.job_id.in_(job_ids))
    )  # fmt: skip
    result: dict[UUID, dict[UUID, tuple[DependsOn, str]]] = defaultdict(dict)
    for row in conn.execute(query):
        result[row.job_id][row.upstream_id] = (DependsOn(row.on), row.name)
    return result


def _slot_runs(upstream_ids: list[UUID]) -> sa.Select[Any]:
    """The upstreams' runs that stand for a scheduled time (not manual ones)."""
    return sa.select(
        cron_job_run.c.id,
        cron_job_run.c.job_id,
        cron_job_run.c.scheduled_for,
        cron_job_run.c.status,
        cron_job_run.c.attempt,
        cron_job_run.c.trigger,
        cron_job_run.c.trigger_key,
    ).where(
        cron_job_run.c.job_id.in_(upstream_ids),
        cron_job_run.c.trigger != RunTrigger.MANUAL.value,
    )


def _finals(
    conn: sa.Connection, upstream_ids: list[UUID], slot: datetime
) -> dict[UUID, list[_Final]]:
    """Each upstream's final runs for `slot`: the last attempt of each of its runs for it
    (a schedule run, a backfill, ...), if that attempt ended."""
    last: dict[tuple[Any, ...], Any] = {}
    for row in conn.execute(_slot_runs(upstream_ids).where(cron_job_run.c.scheduled_for == slot)):
        family = (row.job_id, row.trigger, row.trigger_key)
        if family not in last or row.attempt > last[family].attempt:
            last[family] = row
    finals: dict[UUID, list[_Final]] = defaultdict(list)
    for row in last.values():
        if row.status in ENDED:
            finals[row.job_id].append(_Final(row.id, row.status))
    return finals


def _earlier_slots(
    conn: sa.Connection, upstream_ids: list[UUID], since: datetime, before: datetime
) -> set[datetime]:
    """Scheduled times in [since, before) for which an upstream has a run that ended."""
    query = _slot_runs(upstream_ids).where(
        cron_job_run.c.scheduled_for >= since,
        cron_job_run.c.scheduled_for < before,
        cron_job_run.c.status.in_([status.value for status in ENDED]),
    )
    return {row.scheduled_for for row in conn.execute(query)}


def _decided(conn: sa.Connection, job_id: UUID, slots: set[datetime]) -> set[datetime]:
    """Which of the scheduled times have their join decided already (a run or skipped row)."""
    keys = {all_key(slot): slot for slot in slots}
    query = sa.select(cron_job_run.c.trigger_key).where(
        cron_job_run.c.job_id == job_id, cron_job_run.c.trigger_key.in_(list(keys))
    )
    return {keys[key] for key in conn.execute(query).scalars()}
