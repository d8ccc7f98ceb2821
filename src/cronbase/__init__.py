"""cronbase: a database-backed cron system for multi-tenant backends."""

from __future__ import annotations

from cronbase.clock import Clock, SystemClock
from cronbase.errors import (
    ConcurrentChange,
    ConfigurationError,
    CronbaseError,
    DuplicateJob,
    InvalidJob,
    InvalidSchedule,
    InvalidTimezone,
    JobNotFound,
    SchemaOutOfDate,
    StoreError,
    UnknownJobFunction,
    ValueRefused,
)
from cronbase.registry import JobContext, JobGroup, JobRegistry

__all__ = [
    "Clock",
    "ConcurrentChange",
    "ConfigurationError",
    "CronbaseError",
    "DuplicateJob",
    "InvalidJob",
    "InvalidSchedule",
    "InvalidTimezone",
    "JobContext",
    "JobGroup",
    "JobNotFound",
    "JobRegistry",
    "SchemaOutOfDate",
    "StoreError",
    "SystemClock",
    "UnknownJobFunction",
    "ValueRefused",
]
