"""/api/cron/channels: notification channels (list, create, read, update, delete), their
secret's rotation, a test message, and their delivery attempts."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from cronbase.api.channel_schemas import (
    ChannelCreate,
    ChannelData,
    ChannelList,
    ChannelPublic,
    ChannelUpdate,
    DeliveryList,
    DeliveryPublic,
    SecretChannel,
    SecretChannelData,
    TestData,
    TestResult,
)
from cronbase.api.deps import AdminDep, KnownQueryOnly, ServicesDep
from cronbase.api.routes.jobs import Limit
from cronbase.api.schemas import Deleted, Envelope
from cronbase.api.schemas import Page as Pagination
from cronbase.notify.manager import NewSecret
from cronbase.notify.model import Channel

router = APIRouter(prefix="/api/cron/channels", tags=["channels"], dependencies=[KnownQueryOnly])

Offset = Annotated[int, Query(ge=0, le=2**31 - 1, description="rows to skip")]


def _page(limit: int, offset: int, count: int) -> Pagination:
    """Channels and deliveries page by offset only (a channel has few)."""
    more = count == limit
    return Pagination(
        limit=limit, offset=offset, next_offset=offset + limit if more else None, next_cursor=None
    )


def _channel(channel: Channel) -> ChannelPublic:
    return ChannelPublic.model_validate(channel, from_attributes=True)


def _with_secret(made: NewSecret) -> SecretChannelData:
    public = _channel(made.channel).model_dump()
    return SecretChannelData(channel=SecretChannel(**public, secret=made.secret))


@router.get("", summary="List notification channels")
def list_channels(
    services: ServicesDep,
    caller: AdminDep,
    tenant_id: UUID | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Envelope[ChannelList]:
    channels = services.manager.channels.list(
        caller, tenant_id=tenant_id, limit=limit, offset=offset
    )
    page = _page(limit, offset, len(channels))
    return Envelope(data=ChannelList(channels=[_channel(c) for c in channels], pagination=page))


@router.post("", status_code=201, summary="Create a notification channel")
def create_channel(
    body: ChannelCreate, services: ServicesDep, caller: AdminDep
) -> Envelope[SecretChannelData]:
    """A webhook channel gets a signing secret (`whsec_...`), returned in `data.channel.secret`
    in this response only: store it where the receiver can read it."""
    made = services.manager.channels.create(body.model_dump(exclude_unset=True), caller)
    return Envelope(data=_with_secret(made))


@router.get("/{channel_id}", summary="Read a notification channel")
def get_channel(channel_id: UUID, services: ServicesDep, caller: AdminDep) -> Envelope[ChannelData]:
    channel = services.manager.channels.get(channel_id, caller)
    return Envelope(data=ChannelData(channel=_channel(channel)))


@router.put("/{channel_id}", summary="Update a channel's given fields")
def update_channel(
    channel_id: UUID, body: ChannelUpdate, services: ServicesDep, caller: AdminDep
) -> Envelope[ChannelData]:
    changes = body.model_dump(exclude_unset=True)
    channel = services.manager.channels.update(channel_id, changes, caller)
    return Envelope(data=ChannelData(channel=_channel(channel)))


@router.delete("/{channel_id}", summary="Delete a channel and its notifications")
def delete_channel(channel_id: UUID, services: ServicesDep, caller: AdminDep) -> Envelope[Deleted]:
    services.manager.channels.delete(channel_id, caller)
    return Envelope(data=Deleted(id=channel_id))


@router.post("/{channel_id}/rotate-secret", summary="Replace a webhook channel's secret")
def rotate_secret(
    channel_id: UUID, services: ServicesDep, caller: AdminDep
) -> Envelope[SecretChannelData]:
    """Returns the new secret, once. For 24 hours each message carries two signatures, one
    with the new secret and one with the previous, so receivers can switch without a gap."""
    return Envelope(data=_with_secret(services.manager.channels.rotate_secret(channel_id, caller)))


@router.post("/{channel_id}/test", summary="Send the channel a test message now")
def test_channel(channel_id: UUID, services: ServicesDep, caller: AdminDep) -> Envelope[TestData]:
    """Sends a `channel.test` message at once and says how the receiver answered; the attempt
    shows in the channel's deliveries. It is not retried."""
    attempt = services.manager.channels.test(channel_id, caller)
    result = TestResult(
        delivered=attempt.delivered,
        status_code=attempt.status_code,
        error=attempt.error,
        duration_ms=attempt.duration_ms,
    )
    return Envelope(data=TestData(test=result))


@router.get("/{channel_id}/deliveries", summary="A channel's delivery attempts, newest first")
def list_deliveries(
    channel_id: UUID, services: ServicesDep, caller: AdminDep, limit: Limit = 50, offset: Offset = 0
) -> Envelope[DeliveryList]:
    deliveries = services.manager.channels.deliveries(
        channel_id, caller, limit=limit, offset=offset
    )
    listed = [DeliveryPublic.model_validate(d, from_attributes=True) for d in deliveries]
    page = _page(limit, offset, len(deliveries))
    return Envelope(data=DeliveryList(deliveries=listed, pagination=page))
