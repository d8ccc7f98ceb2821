"""Request and response bodies of /api/cron/channels (notification channels)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from cronbase.api.instants import Instant
from cronbase.api.schemas import Page
from cronbase.job_fields import MAX_NAME_LENGTH
from cronbase.notify.events import DEFAULT_EVENTS, SUBSCRIBABLE
from cronbase.notify.validation import MAX_JOB_IDS, MAX_URL_LENGTH

# Lengths are capped here so huge values stop at the door; the manager checks the content.
Name = Annotated[str, StringConstraints(max_length=MAX_NAME_LENGTH)]
Url = Annotated[str, StringConstraints(max_length=MAX_URL_LENGTH)]
EventName = Annotated[str, StringConstraints(max_length=64)]
Events = Annotated[list[EventName], Field(max_length=50)]
JobIds = Annotated[list[UUID], Field(max_length=MAX_JOB_IDS)]

MUTED_HELP = "no alert goes to the channel until then (an instant with its offset); null: none"
EVENTS_HELP = (
    f"events to receive, of {', '.join(SUBSCRIBABLE)}; default: all but "
    f"{', '.join(e for e in SUBSCRIBABLE if e not in DEFAULT_EVENTS)}"
)


class ChannelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name = Field(examples=["Ops webhook"])
    kind: str = Field(
        max_length=32,
        description="webhook (signed JSON POST), slack or email",
        examples=["webhook"],
    )
    url: Url = Field(
        description="where to deliver: the endpoint's URL, or the email address",
        examples=["https://example.com/hooks/cron"],
    )
    events: Events | None = Field(None, description=EVENTS_HELP)
    job_ids: JobIds | None = Field(None, description="only these jobs' events; null: every job")
    tenant_id: UUID | None = Field(
        None, description="a superadmin's channel without a tenant receives every tenant's events"
    )
    muted_until: Instant | None = Field(None, description=MUTED_HELP)


class ChannelUpdate(BaseModel):
    """Any of name, url, events and job_ids; those left out keep their values."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    url: Url | None = None
    events: Events | None = Field(None, description=EVENTS_HELP)
    job_ids: JobIds | None = Field(None, description="only these jobs' events; null: every job")
    muted_until: Instant | None = Field(None, description=MUTED_HELP)
    kind: str | None = Field(None, max_length=32, description="cannot change")
    tenant_id: UUID | None = Field(None, description="cannot change")


class ChannelPublic(BaseModel):
    id: UUID
    tenant_id: UUID | None
    name: str
    kind: str
    url: str
    events: list[str]
    job_ids: list[UUID] | None
    muted_until: datetime | None
    previous_secret_until: datetime | None = Field(
        description="after a rotation, the previous secret also signs until then"
    )
    created_at: datetime
    updated_at: datetime


class ChannelData(BaseModel):
    channel: ChannelPublic


class SecretChannel(ChannelPublic):
    secret: str | None = Field(
        description="the signing secret (whsec_...), shown only in this response; null for "
        "kinds that sign nothing"
    )


class SecretChannelData(BaseModel):
    channel: SecretChannel


class ChannelList(BaseModel):
    channels: list[ChannelPublic]
    pagination: Page


class DeliveryPublic(BaseModel):
    notification_id: UUID = Field(description="the webhook-id, the same on every attempt")
    event: str
    attempt: int
    attempted_at: datetime
    status_code: int | None = Field(description="the receiver's answer; null if none came")
    error: str | None = Field(description="why it was not delivered; null if it was")
    duration_ms: int
    notification_status: str = Field(description="pending (to retry), delivered or failed")


class DeliveryList(BaseModel):
    deliveries: list[DeliveryPublic]
    pagination: Page


class TestResult(BaseModel):
    delivered: bool
    status_code: int | None
    error: str | None
    duration_ms: int


class TestData(BaseModel):
    test: TestResult
