"""The notification domain: channels, the notifications of the outbox, delivery attempts.

A channel (cron_channel) says where alerts go and which events it wants. An event that
matches it becomes a notification (cron_notification), written in the transaction that
records its cause; any cronbase process then delivers it, and each try is an attempt
(cron_delivery).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from cronbase.jobs import isoformat


class ChannelKind(StrEnum):
    WEBHOOK = "webhook"  # a JSON POST signed as Standard Webhooks says
    SLACK = "slack"  # a Slack-compatible incoming webhook
    EMAIL = "email"  # through CRONBASE_SMTP_URL


class NotificationStatus(StrEnum):
    PENDING = "pending"  # to be delivered (again) at next_attempt_at
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up: retried for the whole retry period, or refused for good


@dataclass(frozen=True)
class Channel:
    """A row of cron_channel. The secrets are stored sealed (encrypted); `signing_secrets`,
    empty as read from the store, holds them in clear once the deliverer has unsealed them
    for one attempt (the current one first, then the previous one during its grace)."""

    id: UUID
    tenant_id: UUID | None
    name: str
    kind: ChannelKind
    url: str
    events: list[str]
    job_ids: list[UUID] | None
    created_at: datetime
    updated_at: datetime
    muted_until: datetime | None = None
    sealed_secret: str | None = None
    sealed_previous_secret: str | None = None
    previous_secret_until: datetime | None = None
    signing_secrets: tuple[str, ...] = field(default=(), repr=False)

    def wants(self, event: str, job_id: UUID | None) -> bool:
        """Does this channel receive `event` about this job (None: no job)?"""
        if event not in self.events:
            return False
        return self.job_ids is None or job_id in self.job_ids

    def to_dict(self) -> dict[str, Any]:
        """The channel as the API shows it: never a secret, sealed or not."""
        return {
            "id": str(self.id),
            "tenant_id": str(self.tenant_id) if self.tenant_id else None,
            "name": self.name,
            "kind": self.kind.value,
            "url": self.url,
            "events": list(self.events),
            "job_ids": [str(job_id) for job_id in self.job_ids]
            if self.job_ids is not None
            else None,
            "muted_until": isoformat(self.muted_until),
            "previous_secret_until": isoformat(self.previous_secret_until),
            "created_at": isoformat(self.created_at),
            "updated_at": isoformat(self.updated_at),
        }


@dataclass(frozen=True)
class Event:
    """Something to tell the channels that want it: built by events.py, written to the outbox
    by the store next to the change that caused it."""

    name: str  # run.failed, run.timed_out, ...
    tenant_id: UUID | None
    job_id: UUID | None
    run_id: UUID | None
    time: datetime
    payload: dict[str, Any]
    # At most one notification per channel and key: a second write of the same event (two
    # processes seeing the same thing) adds nothing. None: no such guard.
    dedup_key: str | None = None


@dataclass(frozen=True)
class Notification:
    """A row of cron_notification: one event for one channel. Its id is the `webhook-id`,
    the same on every attempt."""

    id: UUID
    channel_id: UUID
    tenant_id: UUID | None
    job_id: UUID | None
    run_id: UUID | None
    event: str
    payload: dict[str, Any]
    created_at: datetime
    status: NotificationStatus
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None = None
    last_error: str | None = None


@dataclass(frozen=True)
class Attempt:
    """What one try at sending a notification gave: the receiver's status code (None if no
    answer came), and an error unless it was delivered. `permanent`: trying again cannot
    help (the notification fails at once)."""

    status_code: int | None
    error: str | None
    duration_ms: int
    permanent: bool = False

    @property
    def delivered(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Finished:
    """An attempt at a notification and what follows it: delivered, failed for good, or
    pending again at `next_attempt_at`."""

    notification: Notification
    attempted_at: datetime
    attempt: Attempt
    status: NotificationStatus
    next_attempt_at: datetime | None = None


@dataclass(frozen=True)
class Delivery:
    """A row of cron_delivery, with the notification it tried: one attempt, as the API's
    deliveries list shows it."""

    notification_id: UUID
    event: str
    attempt: int
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int
    notification_status: NotificationStatus
