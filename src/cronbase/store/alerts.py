"""Alert state, in the caller's transaction: flood control's repeats (cron_alert_repeat), each
job's alert episode (cron_job.alerting_since), overdue episodes (cron_job_overdue), and the
maintenance windows and mutes that suppress alerts. The rules are cronbase.notify.flood and
cronbase.overdue; this module reads and writes what they need."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from cronbase.jobs import FAILURE_STATUSES, Job, Outcome, RunStatus
from cronbase.notify import flood
from cronbase.notify.events import overdue_event, recovered_event
from cronbase.notify.model import Channel, Event
from cronbase.store.alert_tables import cron_alert_repeat, cron_job_overdue, cron_maintenance
from cronbase.store.engine import dialect_insert
from cronbase.store.status import overdue_query, still_overdue
from cronbase.store.tables import cron_job

Key = tuple[UUID, UUID, str]  # channel, job, event


def quieted(
    conn: sa.Connection, dialect: str, deliveries: list[tuple[Event, Channel]], quiet: timedelta
) -> list[tuple[Event, Channel]]:
    """The (event, channel) pairs to send, after maintenance windows, mutes and flood control
    (cronbase.notify.flood); a pair sent after folded repeats carries them in its payload.
    Events about no job (a channel's test) pass as they are. Records the repeats."""
    about_jobs = [(e, c) for e, c in deliveries if e.job_id is not None]
    if not about_jobs:
        return deliveries
    times = [event.time for event, _ in about_jobs]
    windows = active_windows(conn, min(times), max(times))
    muted = _job_mutes(conn, {e.job_id for e, _ in about_jobs if e.job_id})
    repeats = _repeats(conn, about_jobs)
    before = dict(repeats)
    kept = [(e, c) for e, c in deliveries if e.job_id is None]
    for event, channel in sorted(about_jobs, key=lambda pair: pair[0].time):
        assert event.job_id is not None
        key = (channel.id, event.job_id, event.name)
        current = repeats.get(key, flood.Repeats())
        verdict = flood.judge(
            event,
            channel,
            current,
            job_muted_until=muted.get(event.job_id),
            windows=windows,
            quiet=quiet,
        )
        if verdict is flood.Verdict.SEND:
            folded = flood.folded_part(current)
            if folded:
                event = replace(event, payload={**event.payload, "folded": folded})
            kept.append((event, channel))
        repeats[key] = flood.after(current, verdict, event.time)
    _save_repeats(conn, dialect, {k: v for k, v in repeats.items() if before.get(k) != v})
    return kept


def _repeats(conn: sa.Connection, pairs: list[tuple[Event, Channel]]) -> dict[Key, flood.Repeats]:
    channels = {channel.id for _, channel in pairs}
    jobs = {event.job_id for event, _ in pairs}
    query = sa.select(cron_alert_repeat).where(
        cron_alert_repeat.c.channel_id.in_(sorted(channels)),
        cron_alert_repeat.c.job_id.in_(sorted(jobs)),  # type: ignore[type-var]
    )
    return {
        (row.channel_id, row.job_id, row.event): flood.Repeats(
            row.last_sent_at, row.folded, row.folded_since
        )
        for row in conn.execute(query)
    }


def _save_repeats(conn: sa.Connection, dialect: str, changed: dict[Key, flood.Repeats]) -> None:
    if not changed:
        return
    insert = dialect_insert(dialect)(cron_alert_repeat)
    upsert = insert.on_conflict_do_update(
        index_elements=["channel_id", "job_id", "event"],
        set_={
            "last_sent_at": insert.excluded.last_sent_at,
            "folded": insert.excluded.folded,
            "folded_since": insert.excluded.folded_since,
        },
    )
    conn.execute(
        upsert,
        [
            {
                "channel_id": channel_id,
                "job_id": job_id,
                "event": event,
                "last_sent_at": r.last_sent_at,
                "folded": r.folded,
                "folded_since": r.folded_since,
            }
            for (channel_id, job_id, event), r in changed.items()
        ],
    )


def _job_mutes(conn: sa.Connection, job_ids: set[UUID]) -> dict[UUID, datetime]:
    query = sa.select(cron_job.c.id, cron_job.c.muted_until).where(
        cron_job.c.id.in_(sorted(job_ids)), cron_job.c.muted_until.is_not(None)
    )
    return {job_id: until for job_id, until in conn.execute(query)}  # noqa: C416


# --- maintenance windows ----------------------------------------------------------------------


def window_from_row(row: Any) -> flood.MaintenanceWindow:
    m = row._mapping
    job_ids = m["job_ids"]
    return flood.MaintenanceWindow(
        id=m["id"],
        tenant_id=m["tenant_id"],
        starts_at=m["starts_at"],
        ends_at=m["ends_at"],
        job_ids=[UUID(str(j)) for j in job_ids] if job_ids is not None else None,
        reason=m["reason"],
        created_at=m["created_at"],
    )


def active_windows(
    conn: sa.Connection, start: datetime, end: datetime
) -> list[flood.MaintenanceWindow]:
    """The windows that overlap [start, end] (served by ix_cron_maintenance_ends_at)."""
    query = sa.select(cron_maintenance).where(
        cron_maintenance.c.ends_at > start, cron_maintenance.c.starts_at <= end
    )
    return [window_from_row(row) for row in conn.execute(query)]


def insert_window(conn: sa.Connection, values: dict[str, Any]) -> flood.MaintenanceWindow:
    stored = dict(values)
    if stored.get("job_ids") is not None:
        stored["job_ids"] = [str(job_id) for job_id in stored["job_ids"]]
    row = conn.execute(
        cron_maintenance.insert().values(**stored).returning(*cron_maintenance.c)
    ).one()
    return window_from_row(row)


def list_windows(
    conn: sa.Connection, tenant_id: UUID | None, ended_after: datetime
) -> list[flood.MaintenanceWindow]:
    """Windows not ended before `ended_after` (with `tenant_id`, that tenant's), by start."""
    query = (
        sa.select(cron_maintenance)
        .where(cron_maintenance.c.ends_at > ended_after)
        .order_by(cron_maintenance.c.starts_at, cron_maintenance.c.id)
    )
    if tenant_id is not None:
        query = query.where(cron_maintenance.c.tenant_id == tenant_id)
    return [window_from_row(row) for row in conn.execute(query)]


def delete_window(conn: sa.Connection, window_id: UUID, tenant_id: UUID | None) -> bool:
    where = cron_maintenance.c.id == window_id
    if tenant_id is not None:
        where = sa.and_(where, cron_maintenance.c.tenant_id == tenant_id)
    return conn.execute(cron_maintenance.delete().where(where)).rowcount == 1


# --- alert episodes ---------------------------------------------------------------------------


def open_episodes(conn: sa.Connection, since: dict[UUID, datetime]) -> None:
    """Mark the jobs as alerting from these instants, unless they already are."""
    if not since:
        return
    conn.execute(
        cron_job.update()
        .where(cron_job.c.id == sa.bindparam("b_id"), cron_job.c.alerting_since.is_(None))
        .values(alerting_since=sa.bindparam("b_since")),
        [{"b_id": job_id, "b_since": at} for job_id, at in since.items()],
    )


def episodes_of_runs(
    conn: sa.Connection, final: Iterable[Outcome], since: dict[UUID, datetime | None]
) -> list[Event]:
    """Open the episodes of the jobs whose final attempt failed, timed out or was abandoned;
    close those of the jobs whose final attempt succeeded after an alert, returning their
    job.recovered events. The jobs' rows are locked by the caller (record_outcomes), which
    read their alerting_since (`since`) as it locked them."""
    ordered = sorted(final, key=lambda o: o.finished_at)
    if not ordered:
        return []
    alerting = dict(since)
    before = since
    recovered = []
    for outcome in ordered:
        job_id = outcome.claim.job.id
        if outcome.status in FAILURE_STATUSES and alerting.get(job_id) is None:
            alerting[job_id] = outcome.finished_at
        elif outcome.status is RunStatus.SUCCEEDED and alerting.get(job_id) is not None:
            recovered.append(recovered_event(outcome, alerting[job_id]))  # type: ignore[arg-type]
            alerting[job_id] = None
    changed = [(j, at) for j, at in alerting.items() if j in before and before[j] != at]
    if changed:
        conn.execute(
            cron_job.update()
            .where(cron_job.c.id == sa.bindparam("b_id"))
            .values(alerting_since=sa.bindparam("b_since")),
            [{"b_id": job_id, "b_since": at} for job_id, at in changed],
        )
    return recovered


def unraised_overdue(conn: sa.Connection, now: datetime, limit: int) -> list[Job]:
    """Up to `limit` jobs overdue at `now` (cronbase.overdue) whose episode (the job and its
    next_run) has no job.overdue yet."""
    raised = sa.exists().where(
        cron_job_overdue.c.job_id == cron_job.c.id,
        cron_job_overdue.c.next_run == cron_job.c.next_run,
    )
    candidates = overdue_query(now).where(sa.not_(raised)).limit(limit)
    return still_overdue(conn.execute(candidates), now)


def raise_overdue(conn: sa.Connection, dialect: str, now: datetime, limit: int) -> list[Event]:
    """The job.overdue events of the unraised_overdue jobs; each episode is recorded in
    cron_job_overdue, whose key keeps it to one however many processes check at once, and
    opens the job's alert episode."""
    jobs = unraised_overdue(conn, now, limit)
    if not jobs:
        return []
    insert = (
        dialect_insert(dialect)(cron_job_overdue)
        .on_conflict_do_nothing(index_elements=["job_id", "next_run"])
        .returning(cron_job_overdue.c.job_id)
    )
    rows = [
        {"job_id": job.id, "next_run": job.next_run, "tenant_id": job.tenant_id, "detected_at": now}
        for job in jobs
    ]
    mine = {job_id for (job_id,) in conn.execute(insert, rows)}
    events = [overdue_event(job, now) for job in jobs if job.id in mine]
    open_episodes(conn, {event.job_id: now for event in events if event.job_id})
    return events
