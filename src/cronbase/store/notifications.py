"""The outbox of notifications, and their delivery attempts (channels: channels.py). Each
function runs on the connection it is given, inside the caller's transaction (see SqlStore):
`add_events` in particular is called by recording.py in the transaction that records runs,
so an alert is written if and only if what caused it is."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from cronbase.notify.flood import DEFAULT_QUIET_PERIOD
from cronbase.notify.model import (
    Attempt,
    Channel,
    Delivery,
    Event,
    Finished,
    Notification,
    NotificationStatus,
)
from cronbase.store.alerts import quieted
from cronbase.store.channels import channel_from_row, channels_of_tenants, matching
from cronbase.store.engine import dialect_insert
from cronbase.store.notification_tables import cron_channel, cron_delivery, cron_notification

# A literal, to match the partial index ix_cron_notification_due (see rows.py for why).
_PENDING = sa.text("cron_notification.status = 'pending'")
LAPSED_ERROR = "no answer recorded: the process delivering it stopped before it ended"


def add_events(
    conn: sa.Connection,
    dialect: str,
    events: list[Event],
    quiet: timedelta = DEFAULT_QUIET_PERIOD,
) -> None:
    """Write one pending notification per event and channel that receives it, due at once,
    in the caller's transaction, unless a maintenance window or a mute suppresses it or flood
    control folds it into a later one (`quiet`: the quiet period; store/alerts.py). An event
    whose dedup_key a channel has a notification for already adds nothing to that channel."""
    if not events:
        return
    channels = channels_of_tenants(conn, {event.tenant_id for event in events})
    pairs = [(event, channel) for event in events for channel in matching(channels, event)]
    rows = [
        {
            "channel_id": channel.id,
            "tenant_id": event.tenant_id,
            "job_id": event.job_id,
            "run_id": event.run_id,
            "event": event.name,
            "payload": event.payload,
            "dedup_key": event.dedup_key,
            "created_at": event.time,
            "next_attempt_at": event.time,
        }
        for event, channel in quieted(conn, dialect, pairs, quiet)
    ]
    if not rows:
        return
    insert = dialect_insert(dialect)(cron_notification).on_conflict_do_nothing(
        index_elements=["channel_id", "dedup_key"]
    )
    conn.execute(insert, rows)


def add_notification(
    conn: sa.Connection, channel_id: UUID, event: Event, owner: str, lease_until: datetime
) -> Notification:
    """A notification of `event` for this one channel, already leased to `owner` (a test
    message, sent at once by whoever asked for it)."""
    row = conn.execute(
        cron_notification.insert()
        .values(
            channel_id=channel_id,
            tenant_id=event.tenant_id,
            job_id=event.job_id,
            run_id=event.run_id,
            event=event.name,
            payload=event.payload,
            created_at=event.time,
            attempts=1,
            next_attempt_at=lease_until,
            lease_until=lease_until,
            lease_owner=owner,
        )
        .returning(*cron_notification.c)
    ).one()
    return notification_from_row(row)


def notification_from_row(row: Any) -> Notification:
    m = row._mapping
    return Notification(
        id=m["id"],
        channel_id=m["channel_id"],
        tenant_id=m["tenant_id"],
        job_id=m["job_id"],
        run_id=m["run_id"],
        event=m["event"],
        payload=m["payload"],
        created_at=m["created_at"],
        status=NotificationStatus(m["status"]),
        attempts=m["attempts"],
        next_attempt_at=m["next_attempt_at"],
        delivered_at=m["delivered_at"],
        last_error=m["last_error"],
    )


def claim_notifications(
    conn: sa.Connection, now: datetime, owner: str, lease_until: datetime, limit: int
) -> list[tuple[Notification, Channel]]:
    """Lease up to `limit` pending notifications whose next attempt has come, oldest first,
    each with its channel; count the attempt. Rows another process holds are passed over.

    A claim moves next_attempt_at to the end of its lease: if the holder dies, the row falls
    due again when the lease lapses, with no other query. Finding a row whose previous lease
    lapsed (lease_owner still set), the attempt that never ended is recorded as such.
    """
    locked = conn.execute(
        sa.select(cron_notification)
        .where(_PENDING, cron_notification.c.next_attempt_at <= now)
        .order_by(cron_notification.c.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not locked:
        return []
    lapsed = [row for row in locked if row.lease_owner is not None]
    if lapsed:
        _record_attempts(
            conn,
            [(row.id, row.attempts, now, Attempt(None, LAPSED_ERROR, 0)) for row in lapsed],
        )
    ids = [row.id for row in locked]
    claimed = conn.execute(
        cron_notification.update()
        .where(cron_notification.c.id.in_(ids))
        .values(
            attempts=cron_notification.c.attempts + 1,
            next_attempt_at=lease_until,
            lease_until=lease_until,
            lease_owner=owner,
        )
        .returning(*cron_notification.c)
    ).all()
    channels = {
        row.id: channel_from_row(row)
        for row in conn.execute(
            sa.select(cron_channel).where(cron_channel.c.id.in_({r.channel_id for r in claimed}))
        )
    }
    notifications = sorted(
        (notification_from_row(row) for row in claimed), key=lambda n: n.next_attempt_at
    )
    return [(n, channels[n.channel_id]) for n in notifications]


def finish_attempts(conn: sa.Connection, owner: str, finished: list[Finished]) -> list[bool]:
    """Record attempts at notifications `owner` claimed, and what follows each. The attempts
    are always kept; a notification changes only if `owner` still holds that attempt (else its
    lease lapsed and another process took it over: False for it)."""
    _record_attempts(
        conn,
        [(f.notification.id, f.notification.attempts, f.attempted_at, f.attempt) for f in finished],
    )
    return [_settle(conn, owner, f) for f in finished]


def _settle(conn: sa.Connection, owner: str, finished: Finished) -> bool:
    notification = finished.notification
    values: dict[str, Any] = {
        "status": finished.status.value,
        "lease_until": None,
        "lease_owner": None,
        "last_error": finished.attempt.error,
    }
    if finished.status is NotificationStatus.DELIVERED:
        values["delivered_at"] = finished.attempted_at
    if finished.next_attempt_at is not None:
        values["next_attempt_at"] = finished.next_attempt_at
    updated = conn.execute(
        cron_notification.update()
        .where(
            cron_notification.c.id == notification.id,
            cron_notification.c.lease_owner == owner,
            cron_notification.c.attempts == notification.attempts,
        )
        .values(**values)
    )
    return updated.rowcount == 1


def _record_attempts(
    conn: sa.Connection, attempts: list[tuple[UUID, int, datetime, Attempt]]
) -> None:
    conn.execute(
        cron_delivery.insert(),
        [
            {
                "notification_id": notification_id,
                "attempt": number,
                "attempted_at": at,
                "status_code": attempt.status_code,
                "error": attempt.error,
                "duration_ms": attempt.duration_ms,
            }
            for notification_id, number, at, attempt in attempts
        ],
    )


def list_deliveries(
    conn: sa.Connection, channel_id: UUID, limit: int, offset: int
) -> list[Delivery]:
    """A page of the channel's delivery attempts, newest first."""
    query = (
        sa.select(
            cron_delivery.c.notification_id,
            cron_notification.c.event,
            cron_delivery.c.attempt,
            cron_delivery.c.attempted_at,
            cron_delivery.c.status_code,
            cron_delivery.c.error,
            cron_delivery.c.duration_ms,
            cron_notification.c.status,
        )
        .join(cron_notification, cron_notification.c.id == cron_delivery.c.notification_id)
        .where(cron_notification.c.channel_id == channel_id)
        .order_by(cron_delivery.c.attempted_at.desc(), cron_delivery.c.attempt.desc())
        .limit(limit)
        .offset(offset)
    )
    return [
        Delivery(
            notification_id=row.notification_id,
            event=row.event,
            attempt=row.attempt,
            attempted_at=row.attempted_at,
            status_code=row.status_code,
            error=row.error,
            duration_ms=row.duration_ms,
            notification_status=NotificationStatus(row.status),
        )
        for row in conn.execute(query)
    ]


def list_notifications(
    conn: sa.Connection, channel_id: UUID | None, limit: int, offset: int
) -> list[Notification]:
    """A page of notifications (of one channel, or all), newest first."""
    query = sa.select(cron_notification).order_by(
        cron_notification.c.created_at.desc(), cron_notification.c.id
    )
    if channel_id is not None:
        query = query.where(cron_notification.c.channel_id == channel_id)
    return [notification_from_row(row) for row in conn.execute(query.limit(limit).offset(offset))]


def earliest_notification(conn: sa.Connection) -> datetime | None:
    """When the next pending notification falls due (None: none is pending)."""
    query = sa.select(sa.func.min(cron_notification.c.next_attempt_at)).where(_PENDING)
    return conn.execute(query).scalar_one()


def pending_count(conn: sa.Connection) -> int:
    """How many notifications wait to be delivered (from ix_cron_notification_due)."""
    query = sa.select(sa.func.count()).select_from(cron_notification).where(_PENDING)
    return int(conn.execute(query).scalar_one())


def prune_notifications(conn: sa.Connection, before: datetime) -> int:
    """Delete delivered and failed notifications created before `before`, with their
    attempts; return how many."""
    done = [NotificationStatus.DELIVERED.value, NotificationStatus.FAILED.value]
    deleted = conn.execute(
        cron_notification.delete().where(
            cron_notification.c.created_at < before, cron_notification.c.status.in_(done)
        )
    )
    return deleted.rowcount
