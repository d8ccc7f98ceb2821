"""Maintenance windows, the domain layer: who may manage which, and what a window must be.

A window suppresses every alert about the jobs it covers while it lasts (notify/flood.py).
Tenant-scoped like jobs: an admin's windows are their tenant's and cover only that tenant's
jobs; a superadmin's window without a tenant covers every job. JobManager.maintenance is the
way in for the API.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from cronbase.auth import PermissionDenied, Principal
from cronbase.clock import Clock
from cronbase.errors import InvalidFields, NotFound
from cronbase.job_validation import text_problem
from cronbase.jobs import utc_instant
from cronbase.notify.flood import MaintenanceWindow
from cronbase.store import SqlStore

MAX_SPAN = timedelta(days=366)
MAX_REASON = 500
MAX_JOB_IDS = 100
FIELDS = ("tenant_id", "starts_at", "ends_at", "job_ids", "reason")

Errors = list[tuple[str, str]]


class InvalidWindow(InvalidFields):
    """A window that cannot be stored (the API answers 422, as for any InvalidFields)."""

    what = "maintenance window"


class WindowNotFound(NotFound):
    what = "maintenance window"


class MaintenanceManager:
    def __init__(self, store: SqlStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def create(self, fields: dict[str, Any], caller: Principal) -> MaintenanceWindow:
        """Validate and store a window (InvalidWindow, storing nothing). `starts_at` defaults
        to now; `ends_at` must come after it and after now."""
        tenant_id = fields.get("tenant_id")
        if not caller.is_superadmin:
            if tenant_id not in (None, caller.tenant_id):
                raise PermissionDenied("an admin can plan maintenance for their own tenant only")
            tenant_id = caller.tenant_id
        now = self.clock.now()
        errors: Errors = [
            (name, "is not a field of a window") for name in set(fields) - set(FIELDS)
        ]
        starts_at = _instant(fields.get("starts_at") or now, "starts_at", errors)
        ends_at = _instant(fields.get("ends_at"), "ends_at", errors)
        if starts_at and ends_at:
            if ends_at <= max(starts_at, now):
                errors.append(("ends_at", "must be after starts_at and in the future"))
            elif ends_at - starts_at > MAX_SPAN:
                errors.append(("ends_at", f"must be at most {MAX_SPAN.days} days after starts_at"))
        reason = fields.get("reason") or ""
        if not isinstance(reason, str) or len(reason) > MAX_REASON:
            errors.append(("reason", f"must be text of at most {MAX_REASON} characters"))
        elif reason.strip() and (problem := text_problem(reason.strip())):
            errors.append(("reason", problem))
        job_ids = self._job_ids(fields.get("job_ids"), tenant_id, caller, errors)
        if tenant_id is not None and self.store.tenant_name(tenant_id) is None:
            errors.append(("tenant_id", f"no tenant with id {tenant_id}"))
        if errors:
            raise InvalidWindow(sorted(errors))
        return self.store.insert_window(
            {
                "tenant_id": tenant_id,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "job_ids": job_ids,
                "reason": reason.strip(),
                "created_at": now,
            }
        )

    def list(self, caller: Principal) -> list[MaintenanceWindow]:
        """The windows the caller may see that have not ended, by start: an admin's tenant's
        and the global ones that cover their jobs, each naming only the jobs the caller may
        see (a global window's other jobs, and its reason, are other tenants' business)."""
        windows = self.store.list_windows(ended_after=self.clock.now())
        if caller.is_superadmin:
            return windows
        visible = self._visible_jobs(windows, caller)
        mine = []
        for window in windows:
            if window.tenant_id is not None:  # a tenant's: the caller's own only
                if caller.can_see(window.tenant_id):
                    mine.append(window)
            elif window.job_ids is None:  # global, over every job: theirs among them
                mine.append(window)
            elif ids := [job_id for job_id in window.job_ids if job_id in visible]:
                mine.append(replace(window, job_ids=ids))
        return mine

    def _visible_jobs(self, windows: list[MaintenanceWindow], caller: Principal) -> set[UUID]:
        """Of the jobs the global windows name, those the caller may see."""
        named = {job_id for w in windows if w.tenant_id is None for job_id in w.job_ids or ()}
        jobs = (self.store.get_job(job_id) for job_id in named)
        return {job.id for job in jobs if job is not None and caller.can_see(job.tenant_id)}

    def delete(self, window_id: UUID, caller: Principal) -> None:
        """End a window early by deleting it. An admin cannot delete a global window."""
        scope = None if caller.is_superadmin else caller.tenant_id
        if not caller.is_superadmin and scope is None:
            raise WindowNotFound(window_id)
        if not self.store.delete_window(window_id, tenant_id=scope):
            raise WindowNotFound(window_id)

    def _job_ids(
        self, value: Any, tenant_id: UUID | None, caller: Principal, errors: Errors
    ) -> list[UUID] | None:
        if value is None:
            return None
        if not isinstance(value, list) or not value or len(value) > MAX_JOB_IDS:
            errors.append(
                ("job_ids", f"must be null (every job) or a list of 1 to {MAX_JOB_IDS} job ids")
            )
            return None
        ids = []
        for position, job_id in enumerate(value):
            job = self.store.get_job(job_id) if isinstance(job_id, UUID) else None
            if job is None or not caller.can_see(job.tenant_id):
                errors.append((f"job_ids.{position}", f"no job with id {job_id}"))
            elif tenant_id is not None and job.tenant_id != tenant_id:
                errors.append((f"job_ids.{position}", "is a job of another tenant"))
            else:
                ids.append(job_id)
        return list(dict.fromkeys(ids))


def _instant(value: Any, name: str, errors: Errors) -> datetime | None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        errors.append((name, "must be a date and time with its offset, e.g. 2026-12-01T08:00:00Z"))
        return None
    try:
        return utc_instant(value)
    except ValueError as exc:  # past the calendar's end in UTC: no column holds it
        errors.append((name, str(exc)))
        return None
