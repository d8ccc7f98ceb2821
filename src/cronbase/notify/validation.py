"""Pure checks of a notification channel as a client sends it: name, kind, address, events.
The manager adds what needs the database (the tenant, the jobs named)."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from cronbase.jobs import utc_instant
from cronbase.notify.events import SUBSCRIBABLE
from cronbase.notify.model import ChannelKind

Errors = list[tuple[str, str]]
MAX_URL_LENGTH = 2048
MAX_JOB_IDS = 100
_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


def http_url_problem(url: str) -> str | None:
    """Why `url` is no address to POST an alert to, or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http:// or https:// URL with a host, e.g. https://example.com/hooks/cron"
    return None


def email_problem(address: str) -> str | None:
    if not _EMAIL.match(address):
        return "must be one email address, e.g. ops@example.com"
    return None


# What `url` must be, per kind of channel.
ADDRESS_CHECKS: dict[ChannelKind, Callable[[str], str | None]] = {
    ChannelKind.WEBHOOK: http_url_problem,
    ChannelKind.SLACK: http_url_problem,
    ChannelKind.EMAIL: email_problem,
}


def check_kind(value: Any, kinds: Collection[ChannelKind], errors: Errors) -> ChannelKind | None:
    """The kind, if this cronbase can deliver to it; else None with the error."""
    allowed = ", ".join(sorted(kind.value for kind in kinds))
    try:
        kind = ChannelKind(value)
    except ValueError:
        errors.append(("kind", f"must be one of {allowed}; got {value!r}"))
        return None
    if kind not in kinds:
        errors.append(("kind", f"{kind.value} channels are not set up here; use one of {allowed}"))
        return None
    return kind


def check_url(value: Any, kind: ChannelKind | None, errors: Errors) -> str:
    url = value.strip() if isinstance(value, str) else ""
    if not url:
        errors.append(("url", "must not be blank"))
    elif len(url) > MAX_URL_LENGTH:
        errors.append(("url", f"is {len(url)} characters long; at most {MAX_URL_LENGTH}"))
    elif re.search(r"\s", url) or not url.isprintable():
        errors.append(("url", "must not contain spaces, line breaks or control characters"))
    elif kind is not None:
        problem = ADDRESS_CHECKS[kind](url)
        if problem:
            errors.append(("url", problem))
    return url


def check_events(value: Any, errors: Errors) -> list[str]:
    """The events without repeats, in the order given; each must be one a channel can want."""
    allowed = [str(event) for event in SUBSCRIBABLE]
    if not isinstance(value, list) or not value:
        errors.append(("events", f"must be a non-empty list of: {', '.join(allowed)}"))
        return []
    unknown = [event for event in value if event not in allowed]
    if unknown:
        errors.append(
            (
                "events",
                f"unknown event(s) {', '.join(map(repr, unknown))}; known: {', '.join(allowed)}",
            )
        )
    return list(dict.fromkeys(str(event) for event in value))


def check_job_ids(value: Any, errors: Errors) -> list[UUID] | None:
    """None (every job) or the job ids without repeats; whether they exist is the manager's."""
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        errors.append(("job_ids", "must be null (every job) or a non-empty list of job ids"))
        return None
    if len(value) > MAX_JOB_IDS:
        errors.append(("job_ids", f"lists {len(value)} jobs; at most {MAX_JOB_IDS}"))
        return None
    ids = []
    for position, job_id in enumerate(value):
        try:
            ids.append(job_id if isinstance(job_id, UUID) else UUID(str(job_id)))
        except ValueError:
            errors.append((f"job_ids.{position}", f"{job_id!r} is not a job id (a UUID)"))
    return list(dict.fromkeys(ids))


def check_muted_until(value: Any, errors: Errors) -> datetime | None:
    """None (not muted) or an instant with its offset, until which the channel gets nothing."""
    if value is None:
        return None
    if not isinstance(value, datetime) or value.utcoffset() is None:
        errors.append(
            (
                "muted_until",
                "must be null or a date-time with its offset, e.g. 2026-12-01T09:00:00Z",
            )
        )
        return None
    try:
        return utc_instant(value)
    except ValueError as exc:  # past the calendar's end in UTC: no column holds it
        errors.append(("muted_until", str(exc)))
        return None
