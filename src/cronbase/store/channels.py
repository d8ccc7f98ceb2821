"""Notification channels: create, read, update, delete, and which channels receive an event.
Each function runs on the connection it is given, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from cronbase.notify.model import Channel, ChannelKind, Event
from cronbase.store.notification_tables import cron_channel


def _this_channel(channel_id: UUID, tenant_id: UUID | None) -> sa.ColumnElement[bool]:
    """The channel, and with `tenant_id` only while it belongs to that tenant."""
    if tenant_id is None:
        return cron_channel.c.id == channel_id
    return sa.and_(cron_channel.c.id == channel_id, cron_channel.c.tenant_id == tenant_id)


def _stored(values: dict[str, Any]) -> dict[str, Any]:
    """Column values from a channel's domain values: job ids as JSON strings."""
    stored = dict(values)
    if stored.get("job_ids") is not None:
        stored["job_ids"] = [str(job_id) for job_id in stored["job_ids"]]
    if "kind" in stored:
        stored["kind"] = ChannelKind(stored["kind"]).value
    return stored


def channel_from_row(row: Any) -> Channel:
    m = row._mapping
    job_ids = m["job_ids"]
    return Channel(
        id=m["id"],
        tenant_id=m["tenant_id"],
        name=m["name"],
        kind=ChannelKind(m["kind"]),
        url=m["url"],
        events=list(m["events"] or []),
        job_ids=[UUID(str(job_id)) for job_id in job_ids] if job_ids is not None else None,
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        muted_until=m["muted_until"],
        sealed_secret=m["secret"],
        sealed_previous_secret=m["previous_secret"],
        previous_secret_until=m["previous_secret_until"],
    )


def insert_channel(conn: sa.Connection, values: dict[str, Any]) -> Channel:
    row = conn.execute(
        cron_channel.insert().values(**_stored(values)).returning(*cron_channel.c)
    ).one()
    return channel_from_row(row)


def update_channel(
    conn: sa.Connection, channel_id: UUID, values: dict[str, Any], tenant_id: UUID | None
) -> Channel | None:
    row = conn.execute(
        cron_channel.update()
        .where(_this_channel(channel_id, tenant_id))
        .values(**_stored(values))
        .returning(*cron_channel.c)
    ).first()
    return channel_from_row(row) if row else None


def delete_channel(conn: sa.Connection, channel_id: UUID, tenant_id: UUID | None) -> bool:
    """Delete the channel, with its notifications and their attempts (cascade)."""
    return (
        conn.execute(cron_channel.delete().where(_this_channel(channel_id, tenant_id))).rowcount
        == 1
    )


def get_channel(conn: sa.Connection, channel_id: UUID) -> Channel | None:
    row = conn.execute(sa.select(cron_channel).where(cron_channel.c.id == channel_id)).first()
    return channel_from_row(row) if row else None


def list_channels(
    conn: sa.Connection, tenant_id: UUID | None, limit: int, offset: int
) -> list[Channel]:
    query = sa.select(cron_channel).order_by(cron_channel.c.created_at, cron_channel.c.id)
    if tenant_id is not None:
        query = query.where(cron_channel.c.tenant_id == tenant_id)
    return [channel_from_row(row) for row in conn.execute(query.limit(limit).offset(offset))]


def channels_of_tenants(conn: sa.Connection, tenant_ids: Iterable[UUID | None]) -> list[Channel]:
    """The channels that may receive events of these tenants: theirs, and the global ones."""
    tenants = sorted({tenant_id for tenant_id in tenant_ids if tenant_id is not None})
    scope = cron_channel.c.tenant_id.is_(None)
    if tenants:
        scope = sa.or_(scope, cron_channel.c.tenant_id.in_(tenants))
    return [channel_from_row(row) for row in conn.execute(sa.select(cron_channel).where(scope))]


def matching(channels: Iterable[Channel], event: Event) -> list[Channel]:
    """The channels among `channels` that receive `event`: of its tenant or global, wanting
    its name, and unrestricted or restricted to jobs that include its job."""
    return [
        channel
        for channel in channels
        if channel.tenant_id in (None, event.tenant_id) and channel.wants(event.name, event.job_id)
    ]
