"""Flood control, muting and maintenance: does an event go to a channel now, folded into a
later alert, or not at all? Pure; the store reads the state and writes what this decides.

- A maintenance window that covers the job when the event happens suppresses it.
- A muted channel or a muted job (muted_until in the future) suppresses it.
- Repeats of one event about one job to one channel within the quiet period (an hour by
  default) after the last one sent are folded: not sent, but counted, and the next one sent
  says "and 59 more failures since ..." (`folded` in its payload).

Suppressed events are dropped, not counted: a muted channel was asked to be quiet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from cronbase.jobs import isoformat
from cronbase.notify.model import Channel, Event

DEFAULT_QUIET_PERIOD = timedelta(hours=1)


@dataclass(frozen=True)
class MaintenanceWindow:
    """A row of cron_maintenance: alerts about the jobs it covers are suppressed from
    starts_at until ends_at. A tenant's window covers that tenant's jobs (all, or job_ids);
    a global one (tenant_id None) every tenant's."""

    id: UUID
    tenant_id: UUID | None
    starts_at: datetime
    ends_at: datetime
    job_ids: list[UUID] | None
    reason: str
    created_at: datetime

    def covers(self, tenant_id: UUID | None, job_id: UUID | None, at: datetime) -> bool:
        if not self.starts_at <= at < self.ends_at:
            return False
        if self.tenant_id is not None and self.tenant_id != tenant_id:
            return False
        return self.job_ids is None or job_id in self.job_ids


@dataclass(frozen=True)
class Repeats:
    """Per channel, job and event: when one was last sent, and how many were folded since."""

    last_sent_at: datetime | None = None
    folded: int = 0
    folded_since: datetime | None = None


class Verdict(StrEnum):
    SEND = "send"
    FOLD = "fold"
    SUPPRESS = "suppress"


def judge(
    event: Event,
    channel: Channel,
    repeats: Repeats,
    *,
    job_muted_until: datetime | None,
    windows: list[MaintenanceWindow],
    quiet: timedelta,
) -> Verdict:
    """What becomes of `event` for `channel` (see the module)."""
    at = event.time
    if any(window.covers(event.tenant_id, event.job_id, at) for window in windows):
        return Verdict.SUPPRESS
    for muted_until in (channel.muted_until, job_muted_until):
        if muted_until is not None and at < muted_until:
            return Verdict.SUPPRESS
    if repeats.last_sent_at is not None and at - repeats.last_sent_at < quiet:
        return Verdict.FOLD
    return Verdict.SEND


def after(repeats: Repeats, verdict: Verdict, at: datetime) -> Repeats:
    """The repeats once an event at `at` was judged `verdict`."""
    if verdict is Verdict.SEND:
        return Repeats(last_sent_at=at)
    if verdict is Verdict.FOLD:
        since = min(repeats.folded_since or at, at)
        return Repeats(repeats.last_sent_at, repeats.folded + 1, since)
    return repeats


def folded_part(repeats: Repeats) -> dict[str, Any] | None:
    """The `folded` part of the payload of the next event sent: the repeats it stands for."""
    if not repeats.folded:
        return None
    return {"count": repeats.folded, "since": isoformat(repeats.folded_since)}
