"""The audit log: who created, changed, paused, resumed, deleted, ran or backfilled a job, when,
and what changed. The domain layer builds the entries here (Auditor), the store writes each in
the transaction of the change it records (store/audit.py), so neither exists without the
other, and AuditOperations reads a job's log for the API and the CLI.

An entry outlives its job (an operator asks "who deleted it?"), and the run-history retention
never prunes it. A change that changes nothing (a PUT of the values a job already has, a
second "run now" while one waits, cancelling a cancelled backfill) writes no entry.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from uuid import UUID

from cronbase.auth import Principal
from cronbase.backfill import Backfill
from cronbase.errors import JobNotFound
from cronbase.job_fields import SETTABLE_FIELDS
from cronbase.jobs import Job, Run, isoformat, storable_text
from cronbase.listing import AUDIT_ORDER, Page, page_of, start_after

if TYPE_CHECKING:
    from cronbase.store import SqlStore


class AuditAction(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    PAUSED = "paused"  # a change that set is_active false (other fields may change with it)
    RESUMED = "resumed"
    DELETED = "deleted"
    RAN = "ran"  # "run now": a manual run queued
    BACKFILLED = "backfilled"
    BACKFILL_CANCELLED = "backfill_cancelled"


# The fields an entry's `changes` compare: what a client sets (cronbase.job_fields).
_AUDITED = tuple(f.name for f in SETTABLE_FIELDS)


_last_micros = 0
_id_lock = threading.Lock()


def time_ordered_id() -> UUID:
    """A UUID version 7 whose first 60 bits are the system's wall clock in microseconds, made
    to grow within the process: ids made later sort later, on both databases (PostgreSQL
    compares uuids bytewise, SQLite their hex text). It breaks ties between entries of one
    instant of the injected clock (a test's fake one) in the order they were written."""
    global _last_micros
    with _id_lock:
        _last_micros = max(time.time_ns() // 1000, _last_micros + 1)
        micros = _last_micros
    millis, fraction = divmod(micros, 1000)  # the fraction (< 1000) fits rand_a's 12 bits
    value = (millis << 80) | (0x7 << 76) | (fraction << 64) | (0b10 << 62)
    return UUID(int=value | secrets.randbits(62))


@dataclass(frozen=True)
class AuditEntry:
    """One action on one job. `changes`: {field: {"from": old, "to": new}} of the fields that
    changed (as the API writes them; for `created`, every field from null); `detail`: what
    the action made or named (the run, the backfill, a deleted job's name)."""

    job_id: UUID
    tenant_id: UUID | None  # the job's, when the action was taken
    action: AuditAction | str  # str: an action a newer version wrote (rows.known)
    actor: str  # the caller as the auth layer knows it: a token's email, a JWT's subject,
    # cli:<user> for the command line, system for the seed
    actor_role: str
    at: datetime
    changes: dict[str, dict[str, Any]] | None = None
    detail: dict[str, Any] | None = None
    id: UUID = field(default_factory=time_ordered_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "job_id": str(self.job_id),
            "tenant_id": str(self.tenant_id) if self.tenant_id else None,
            "action": str(self.action),  # an action a newer version wrote stays text
            "actor": self.actor,
            "actor_role": self.actor_role,
            "at": isoformat(self.at),
            "changes": self.changes,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class AuditQuery:
    """Which of a job's entries a list shows (newest first): with `tenant_id`, only those
    written while the job was that tenant's."""

    tenant_id: UUID | None = None
    after: list[Any] | None = None  # a cursor's key values, the id last
    limit: int = 50


class Auditor:
    """Builds the entries of one caller's actions at one instant."""

    def __init__(self, caller: Principal, now: datetime) -> None:
        self.caller = caller
        self.now = now

    def entry(self, job: Job, action: AuditAction, **extra: Any) -> AuditEntry:
        return AuditEntry(
            job_id=job.id,
            tenant_id=job.tenant_id,
            action=action,
            # A JWT's subject is the host's text: stored as PostgreSQL can hold it (no NUL).
            actor=storable_text(self.caller.email),
            actor_role=self.caller.role.value,
            at=self.now,
            **extra,
        )

    def created(self, job: Job) -> AuditEntry:
        values = job.to_dict()
        changes = {name: {"from": None, "to": values[name]} for name in _AUDITED}
        return self.entry(job, AuditAction.CREATED, changes=changes)

    def updated(self, before: Job, after: Job) -> AuditEntry | None:
        """The entry of a change from `before` to `after`, or None if no field changed:
        paused or resumed when is_active changed, else updated."""
        changes = field_changes(before, after)
        if not changes:
            return None
        action = AuditAction.UPDATED
        if "is_active" in changes:
            action = AuditAction.RESUMED if after.is_active else AuditAction.PAUSED
        return self.entry(after, action, changes=changes)

    def deleted(self, job: Job) -> AuditEntry:
        return self.entry(job, AuditAction.DELETED, detail={"name": job.name})

    def detached_from(self, deleted: Job) -> Callable[[Job, Job], AuditEntry | None]:
        """The entry of a dependent whose edge to `deleted` went with it (a delete with
        detach): updated, its depends_on from and to, naming the deleted job."""

        def entry(before: Job, after: Job) -> AuditEntry | None:
            changes = {k: v for k, v in field_changes(before, after).items() if k == "depends_on"}
            detail = {"upstream_deleted": str(deleted.id), "name": deleted.name}
            if not changes:
                return None
            return self.entry(after, AuditAction.UPDATED, changes=changes, detail=detail)

        return entry

    def ran(self, job: Job) -> Callable[[Run], AuditEntry]:
        return lambda run: self.entry(job, AuditAction.RAN, detail={"run_id": str(run.id)})

    def backfilled(self, job: Job) -> Callable[[Backfill], AuditEntry]:
        return lambda backfill: self.entry(
            job, AuditAction.BACKFILLED, detail=_backfill_detail(backfill)
        )

    def backfill_cancelled(self, job: Job) -> Callable[[Backfill], AuditEntry | None]:
        def entry(backfill: Backfill) -> AuditEntry | None:
            if backfill.cancelled_at != self.now:  # cancelled before: nothing changed now
                return None
            detail = {**_backfill_detail(backfill), "removed": backfill.removed}
            return self.entry(job, AuditAction.BACKFILL_CANCELLED, detail=detail)

        return entry


def field_changes(before: Job, after: Job) -> dict[str, dict[str, Any]]:
    """{field: {"from", "to"}} of the settable fields that differ, as the API writes them."""
    old, new = before.to_dict(), after.to_dict()
    return {
        name: {"from": old[name], "to": new[name]} for name in _AUDITED if old[name] != new[name]
    }


def _backfill_detail(backfill: Backfill) -> dict[str, Any]:
    return {
        "backfill_id": str(backfill.id),
        "start": isoformat(backfill.start),
        "end": isoformat(backfill.end),
        "queued": backfill.slots,
        "include_dependents": backfill.include_dependents,
    }


class AuditOperations:
    """Reading a job's audit log; mixed into JobManager, whose store and get_job these use."""

    store: SqlStore

    def get_job(self, job_id: UUID, caller: Principal) -> Job:
        raise NotImplementedError

    def job_audit(
        self, job_id: UUID, caller: Principal, *, cursor: str | None = None, limit: int = 50
    ) -> Page:
        """A page of the job's audit log, newest first. A tenant's admin sees the entries
        written while the job was their tenant's; after the job is deleted, its log still
        answers to a caller who saw it (JobNotFound to others, as for a job that never was)."""
        exists = self.store.get_job(job_id) is not None
        if exists:
            self.get_job(job_id, caller)  # JobNotFound unless the caller may see it
        elif not caller.is_superadmin and caller.tenant_id is None:
            raise JobNotFound(job_id)
        after = start_after(AUDIT_ORDER, cursor, None)  # InvalidQuery for a bad cursor
        tenant = None if caller.is_superadmin else caller.tenant_id
        query = AuditQuery(tenant_id=tenant, after=after, limit=limit + 1)
        page = page_of(self.store.job_audit(job_id, query), AUDIT_ORDER, limit)
        # A deleted job was the caller's if any entry of it is theirs: not one on this page
        # (or, past a cursor, at all) says it is unknown to them, as a job that never was.
        if (
            not exists
            and not page.items
            and (after is None or not self.store.job_audit(job_id, AuditQuery(tenant, limit=1)))
        ):
            raise JobNotFound(job_id)
        return page
