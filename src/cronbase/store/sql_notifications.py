"""SqlStore's methods for notification channels, the outbox and its delivery attempts (see
Store in protocol.py): each opens one transaction and calls channels.py or notifications.py."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from cronbase.notify.model import Channel, Delivery, Event, Finished, Notification
from cronbase.store import channels, notifications


class NotificationMethods:
    """Mixed into SqlStore, which provides the transactions and the settings below."""

    dialect: str
    quiet_period: timedelta

    def transaction(self) -> AbstractContextManager[sa.Connection]:
        raise NotImplementedError

    def reading(self) -> AbstractContextManager[sa.Connection]:
        raise NotImplementedError

    def insert_channel(self, values: dict[str, Any]) -> Channel:
        with self.transaction() as conn:
            return channels.insert_channel(conn, values)

    def get_channel(self, channel_id: UUID) -> Channel | None:
        with self.reading() as conn:
            return channels.get_channel(conn, channel_id)

    def list_channels(
        self, *, tenant_id: UUID | None = None, limit: int = 100, offset: int = 0
    ) -> list[Channel]:
        with self.reading() as conn:
            return channels.list_channels(conn, tenant_id, limit, offset)

    def update_channel(
        self, channel_id: UUID, values: dict[str, Any], *, tenant_id: UUID | None = None
    ) -> Channel | None:
        with self.transaction() as conn:
            return channels.update_channel(conn, channel_id, values, tenant_id)

    def delete_channel(self, channel_id: UUID, *, tenant_id: UUID | None = None) -> bool:
        with self.transaction() as conn:
            return channels.delete_channel(conn, channel_id, tenant_id)

    def add_events(self, events: list[Event]) -> None:
        if events:
            with self.transaction() as conn:
                notifications.add_events(conn, self.dialect, events, self.quiet_period)

    def add_notification(
        self, channel_id: UUID, event: Event, owner: str, lease_until: datetime
    ) -> Notification:
        with self.transaction() as conn:
            return notifications.add_notification(conn, channel_id, event, owner, lease_until)

    def claim_notifications(
        self, now: datetime, owner: str, lease: timedelta, limit: int = 10
    ) -> list[tuple[Notification, Channel]]:
        # A read first, as raise_overdue does: every deliverer looks each second, and the
        # write transaction (SQLite's write lock) is taken only when something is due.
        with self.reading() as conn:
            due = notifications.earliest_notification(conn)
        if due is None or due > now:
            return []
        with self.transaction() as conn:
            return notifications.claim_notifications(conn, now, owner, now + lease, limit)

    def finish_attempts(self, owner: str, finished: list[Finished]) -> list[bool]:
        with self.transaction() as conn:
            return notifications.finish_attempts(conn, owner, finished)

    def list_deliveries(
        self, channel_id: UUID, *, limit: int = 50, offset: int = 0
    ) -> list[Delivery]:
        with self.reading() as conn:
            return notifications.list_deliveries(conn, channel_id, limit, offset)

    def list_notifications(
        self, *, channel_id: UUID | None = None, limit: int = 50, offset: int = 0
    ) -> list[Notification]:
        with self.reading() as conn:
            return notifications.list_notifications(conn, channel_id, limit, offset)

    def earliest_notification(self) -> datetime | None:
        with self.reading() as conn:
            return notifications.earliest_notification(conn)

    def pending_notifications(self) -> int:
        with self.reading() as conn:
            return notifications.pending_count(conn)

    def prune_notifications(self, before: datetime) -> int:
        with self.transaction() as conn:
            return notifications.prune_notifications(conn, before)
