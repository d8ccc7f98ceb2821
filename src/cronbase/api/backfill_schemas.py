"""Request and response bodies of /api/cron/jobs/{id}/backfills."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, Strict

from cronbase.api.instants import Instant


class BackfillRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: Instant = Field(description="the first instant, with a zone or offset")
    end: Instant = Field(description="the range ends before this instant")
    include_dependents: Annotated[bool, Strict()] = Field(
        False, description="run the jobs that depend on this one after each backfilled run"
    )
    dry_run: Annotated[bool, Strict()] = Field(
        False, description="list the slots that would be queued, and queue nothing"
    )


class BackfillPublic(BaseModel):
    id: UUID
    job_id: UUID
    start: datetime
    end: datetime
    include_dependents: bool
    queued: int = Field(description="the runs it queued, one per slot")
    pending: int
    running: int
    succeeded: int
    failed: int = Field(description="failed, timed out or abandoned, and not retried")
    removed: int = Field(description="waiting when it was cancelled, so never run")
    done: bool = Field(description="nothing of it waits or runs any more")
    created_at: datetime
    cancelled_at: datetime | None


class BackfillData(BaseModel):
    backfill: BackfillPublic | None = Field(description="null for a dry run")
    slots: list[datetime] = Field(description="the slots queued (or, in a dry run, to queue)")
